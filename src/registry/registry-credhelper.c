/* berth — Docker's credential helpers: `docker-credential-NAME ACTION` with
 * JSON or a server URL on stdin and JSON on stdout.  See
 * include/berth/registry-internal.h and docker-credential-helpers' protocol:
 *
 *   store  stdin {"ServerURL", "Username", "Secret"}
 *   get    stdin the server URL; stdout {"ServerURL", "Username", "Secret"},
 *          or "credentials not found in native keychain" and exit 1
 *   erase  stdin the server URL
 *
 * A helper runs with a bounded time (CREDHELPER_TIMEOUT_MS) and bounded
 * output; what goes wrong is one line naming the helper. */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "berth/registry-internal.h"
#include "berth/util.h"

#define CREDHELPER_TIMEOUT_MS 60000
#define CREDHELPER_MAX_OUTPUT (64 << 10)
#define NOT_FOUND "credentials not found in native keychain"

static void close_pair(int p[2])
{
        for (int i = 0; i < 2; i++)
                if (p[i] >= 0)
                        close(p[i]);
}

/* Read what the helper writes to fd into b (at most CREDHELPER_MAX_OUTPUT).
 * false at end of file. */
static bool drain(int fd, struct strbuf *b)
{
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        if (b->len + (size_t) n <= CREDHELPER_MAX_OUTPUT)
                strbuf_addn(b, buf, (size_t) n);
        return true;
}

/* The first line of text, trimmed ("" when empty). */
static char *first_line(const char *text)
{
        while (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')
                text++;
        size_t n = strcspn(text, "\r\n");
        while (n > 0 && text[n - 1] == ' ')
                n--;
        return xstrndup(text, n);
}

/* Run docker-credential-NAME ACTION with input on stdin.  0: it exited 0;
 * 1: it exited otherwise (*out holds its stdout, *why what it said). */
static int helper_run(const char *name, const char *action, const char *input, char **out, char **why,
                      berth_error_t *err)
{
        cleanup_free char *prog = xasprintf("docker-credential-%s", name);
        int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 }, ex[2] = { -1, -1 };
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 ||
            pipe2(ex, O_CLOEXEC) < 0) {
                int er = errno;
                close_pair(in), close_pair(o), close_pair(e), close_pair(ex);
                return berth_error(err, er, "credential helper %s: pipe", prog);
        }
        pid_t pid = fork();
        if (pid < 0) {
                int er = errno;
                close_pair(in), close_pair(o), close_pair(e), close_pair(ex);
                return berth_error(err, er, "credential helper %s: fork", prog);
        }
        if (pid == 0) {
                signal(SIGPIPE, SIG_DFL);
                if (dup2(in[0], STDIN_FILENO) < 0 || dup2(o[1], STDOUT_FILENO) < 0 ||
                    dup2(e[1], STDERR_FILENO) < 0)
                        _exit(127);
                char *argv[] = { prog, (char *) action, NULL };
                execvp(prog, argv);
                int er = errno;
                (void) !write(ex[1], &er, sizeof(er));
                _exit(127);
        }
        close(in[0]), close(o[1]), close(e[1]), close(ex[1]);
        /* (small: it fits the pipe; a helper that exits unread gives EPIPE,
         * SIGPIPE being ignored) */
        (void) write_all(in[1], input, strlen(input));
        close(in[1]);
        int exec_errno = 0;
        ssize_t got = read(ex[0], &exec_errno, sizeof(exec_errno));
        close(ex[0]);
        struct strbuf sout = {}, serr = {};
        struct pollfd pf[2] = { { .fd = o[0], .events = POLLIN }, { .fd = e[0], .events = POLLIN } };
        long long deadline = now_ns() + CREDHELPER_TIMEOUT_MS * 1000000LL;
        bool timed_out = false;
        while (got <= 0 && (pf[0].fd >= 0 || pf[1].fd >= 0)) {
                long long left = (deadline - now_ns()) / 1000000LL;
                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                if (poll(pf, 2, (int) left) < 0 && errno != EINTR)
                        break;
                for (int i = 0; i < 2; i++)
                        if (pf[i].fd >= 0 && pf[i].revents && !drain(pf[i].fd, i == 0 ? &sout : &serr)) {
                                close(pf[i].fd);
                                pf[i].fd = -1;
                        }
        }
        for (int i = 0; i < 2; i++)
                if (pf[i].fd >= 0)
                        close(pf[i].fd);
        if (timed_out || got > 0)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        cleanup_free char *text_out = strbuf_steal(&sout), *text_err = strbuf_steal(&serr);
        if (got > 0) {
                if (exec_errno == ENOENT)
                        return berth_error(err, 0, "credential helper %s: not found in PATH (install it, or remove "
                                                   "the helper from the credentials file)", prog);
                return berth_error(err, exec_errno, "credential helper %s: cannot run it", prog);
        }
        if (timed_out)
                return berth_error(err, 0, "credential helper %s: %s did not finish within %d s", prog, action,
                                   CREDHELPER_TIMEOUT_MS / 1000);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                *out = steal_pointer(&text_out);
                return 0;
        }
        cleanup_free char *said = first_line(*text_out ? text_out : text_err);
        if (WIFSIGNALED(status) && !*said)
                *why = xasprintf("killed by signal %d", WTERMSIG(status));
        else if (!*said)
                *why = xasprintf("exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        else
                *why = steal_pointer(&said);
        *out = steal_pointer(&text_out);
        return 1;
}

/* helper_run, where not exiting 0 is an error. */
static int helper_must(const char *name, const char *action, const char *input, char **out, bool *not_found,
                       berth_error_t *err)
{
        cleanup_free char *why = NULL;
        int r = helper_run(name, action, input, out, &why, err);
        if (r <= 0)
                return r;
        if (not_found && strstr(why, NOT_FOUND)) {
                *not_found = true;
                return 0;
        }
        return berth_error(err, 0, "credential helper docker-credential-%s: %s: %s", name, action, why);
}

char *registry_credhelper_server_url(const char *host)
{
        if (streq(host, "docker.io"))
                return xstrdup("https://index.docker.io/v1/"); /* what Docker stores Hub's under */
        return xstrdup(host);
}

/* ACTION with host's server URL on stdin; *missing: the helper has nothing
 * for it. */
static int helper_for_host(const char *name, const char *action, const char *host, char **out, bool *missing,
                           berth_error_t *err)
{
        cleanup_free char *url = registry_credhelper_server_url(host);
        *missing = false;
        return helper_must(name, action, url, out, missing, err);
}

int registry_credhelper_get(const char *name, const char *host, char **user, char **secret, berth_error_t *err)
{
        cleanup_free char *out = NULL;
        bool missing;
        if (helper_for_host(name, "get", host, &out, &missing, err) < 0)
                return -1;
        if (missing)
                return 0;
        json_error_t je;
        json_auto_t *j = json_loads(out, 0, &je);
        const char *u = json_string_value(json_object_get(j, "Username"));
        const char *s = json_string_value(json_object_get(j, "Secret"));
        if (!u || !s)
                return berth_error(err, 0,
                                   "credential helper docker-credential-%s: get: the answer is not "
                                   "{\"Username\", \"Secret\"} JSON",
                                   name);
        if (!*s)
                return 0;
        *user = xstrdup(u);
        *secret = xstrdup(s);
        return 1;
}

int registry_credhelper_store(const char *name, const char *host, const char *user, const char *secret,
                              berth_error_t *err)
{
        cleanup_free char *url = registry_credhelper_server_url(host);
        json_auto_t *j = json_pack("{s:s, s:s, s:s}", "ServerURL", url, "Username", user, "Secret", secret);
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                abort();
        cleanup_free char *out = NULL;
        int r = helper_must(name, "store", text, &out, NULL, err);
        explicit_bzero(text, strlen(text));
        return r;
}

int registry_credhelper_erase(const char *name, const char *host, bool *erased, berth_error_t *err)
{
        cleanup_free char *out = NULL;
        bool missing;
        if (helper_for_host(name, "erase", host, &out, &missing, err) < 0)
                return -1;
        if (erased)
                *erased = !missing;
        return 0;
}
