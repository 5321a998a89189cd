/* berth exec. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/runtime.h"
#include "berth/unit.h"
#include "berth/util.h"

/* Copy between our terminal and the pty master until the process is done. */
static void pty_relay(int master, void *userdata)
{
        bool interactive = *(bool *) userdata;
        char buf[8192];
        bool in_open = interactive;
        for (;;) {
                struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[0].revents) {
                        ssize_t n = read(master, buf, sizeof(buf));
                        if (n <= 0)
                                return; /* EIO: the last slave fd closed */
                        (void) write_all(1, buf, n);
                }
                if (p[1].revents) {
                        ssize_t n = read(0, buf, sizeof(buf));
                        if (n <= 0)
                                in_open = false;
                        else
                                (void) write_all(master, buf, n);
                }
        }
}

int cmd_exec(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },      { "env", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' }, { "user", required_argument, NULL, 'u' },
                { "privileged", no_argument, NULL, 'P' },  { "help", no_argument, NULL, 'H' }, {},
        };
        struct exec_opts o = {};
        bool interactive = false, detach = false;
        cleanup_strv char **env = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "+itde:w:u:", opts, NULL)) != -1) {
                switch (ch) {
                case 'i': interactive = true; break;
                case 't': o.tty = true; break;
                case 'd': detach = true; break;
                case 'e': strv_push(&env, optarg); break;
                case 'w': o.workdir = optarg; break;
                case 'u': o.user = optarg; break;
                case 'P': o.privileged = true; break;
                case 'H':
                        puts("Usage:  berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
                             "  -d, --detach         Detached mode: run command in the background\n"
                             "  -e, --env list       Set environment variables\n"
                             "  -i, --interactive    Keep STDIN open\n"
                             "      --privileged     Give extended privileges to the command\n"
                             "  -t, --tty            Allocate a pseudo-TTY\n"
                             "  -u, --user string    Username or UID (format: <name|uid>[:<group|gid>])\n"
                             "  -w, --workdir string Working directory inside the container");
                        return 0;
                default: return cli_usage_error(err, "exec", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (argc - optind < 2)
                return cli_usage_error(err, "exec", "requires at least 2 arguments");
        o.env = env;
        o.argv = argv + optind + 1;
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, argv[optind], &c, err) < 0)
                return -1;
        if (!container_is_running(c))
                return berth_error(err, 0, "container %s is not running", c->name);
        if (streq(json_str(c->state, "Status"), "paused"))
                return berth_error(err, 0, "container %s is paused, unpause the container before exec", c->name);
        /* the process joins the unit's cgroup (its device rules, its limits) */
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        o.bus = bus;

        if (detach) {
                /* Docker's exec -d: the process runs on, we return at once */
                pid_t p = fork();
                if (p < 0)
                        return berth_error(err, errno, "fork");
                if (p == 0) {
                        setsid();
                        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                        dup2(devnull, 0);
                        dup2(devnull, 1);
                        dup2(devnull, 2);
                        int code = 0;
                        berth_error_t ee = NULL;
                        /* an sd-bus connection cannot cross fork() */
                        sd_bus *child_bus = NULL;
                        o.bus = unit_bus_open(&child_bus, &ee) == 0 ? child_bus : NULL;
                        berth_error_free(&ee);
                        runtime_exec(&cli->store, c, &o, &code, &ee);
                        _exit(0);
                }
                return 0;
        }

        int code = 0;
        if (!o.tty) {
                if (!interactive) {
                        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (devnull >= 0) {
                                dup2(devnull, 0);
                                close(devnull);
                        }
                }
                if (runtime_exec(&cli->store, c, &o, &code, err) < 0)
                        return -1;
                return code;
        }

        /* -t: the process gets a pty of its own, made inside the container;
         * we relay our terminal to its master. */
        struct termios saved;
        bool raw = false;
        if (isatty(0) && tcgetattr(0, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(0, TCSANOW, &t) == 0;
        }
        o.relay = pty_relay;
        o.userdata = &interactive;
        int r = runtime_exec(&cli->store, c, &o, &code, err);
        if (raw)
                tcsetattr(0, TCSANOW, &saved);
        return r < 0 ? r : code;
}
