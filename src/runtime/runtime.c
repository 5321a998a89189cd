/* berth — the container runtime: the unit's ExecStart (`berth _shim`), the
 * container's own setup before exec, the tini-like init, and the stop hook
 * (`berth _cleanup`).  See include/berth/runtime.h for the life cycle. */
#include "config.h"

#include <fcntl.h>
#include <ctype.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "berth/caps.h"
#include "berth/console.h"
#include "berth/health-timer.h"
#include "berth/journal.h"
#include "berth/json-util.h"
#include "berth/log-relay.h"
#include "berth/mounts.h"
#include "berth/network.h"
#include "berth/overlay.h"
#include "berth/parse.h"
#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/runtime-internal.h"
#include "berth/runtime.h"
#include "berth/seccomp.h"
#include "berth/secret.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"


/* Everything the container's PID 1 needs, computed by the shim before fork
 * so the child only applies it. */
struct child_ctx {
        const char *rootfs;   /* mount point of the overlay (host path) */
        char *overlay_opts;   /* "lowerdir=l/A:l/B,upperdir=...,workdir=..." */
        const char *store_root;
        struct mount_op *binds; /* -v, /etc/hosts... (dst inside container) */
        size_t nbinds;
        const char *hostname;
        bool privileged, readonly, tty, init, nnp;
        bool userns;          /* own user namespace: the shim mounted the root */
        char *passwd_entry, *group_entry; /* keep-id: the user, added unless there */
        uint32_t keep_uid, keep_gid;
        bool root_mounted;    /* a user's: the shim mounted it (overlay.h) */
        const char *user;
        const char *workdir;
        char **argv;
        char **env;
        uint64_t caps;
        struct seccomp_program seccomp;
        const char *journal_id; /* detached: connect stdout/stderr to the journal as this */
        const char *journal_unit; /* ... lines of this unit */
        int log_fds[2];     /* a user's detached container: stdout/stderr to the log relay (-1: none) */
        int console_fd;     /* -t: connected to the client's console socket */
        int sync_fd;        /* SOCK_SEQPACKET to the shim: "R" ready / "E<code> <msg>"; "G" back */
};

/* What the shim allocated for the child (which has its own copy). */
static void child_ctx_clear(struct child_ctx *ctx)
{
        for (size_t i = 0; i < ctx->nbinds; i++) {
                free((char *) ctx->binds[i].src);
                free((char *) ctx->binds[i].dst);
                if (ctx->binds[i].content)
                        explicit_bzero((char *) ctx->binds[i].content, ctx->binds[i].content_len);
                free((char *) ctx->binds[i].content);
        }
        free(ctx->binds);
        free(ctx->overlay_opts);
        free(ctx->passwd_entry);
        free(ctx->group_entry);
        seccomp_program_free(&ctx->seccomp);
}

/* tini's job: forward signals to the child, reap every zombie, exit with
 * the child's status. */
static __attribute__((noreturn)) void run_init(pid_t child)
{
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        for (;;) {
                int status;
                pid_t p;
                while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                        if (p == child)
                                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                siginfo_t si;
                struct timespec ts = { .tv_sec = 1 };
                int sig = sigtimedwait(&all, &si, &ts);
                if (sig > 0 && sig != SIGCHLD)
                        kill(child, sig);
        }
}

/* With a user namespace the container's root (a mapped id) cannot pass the
 * store's 0700 directories.  Before becoming it, while still of host root's
 * uid (their owner), open what the mounts need: the root file system
 * becomes the working directory ("."), each host source an O_PATH
 * descriptor named /proc/self/fd/N; a secret's tmpfs goes on a mount point
 * under the container's /dev, detached once its file is bound. */
static int userns_open_paths(struct child_ctx *ctx, berth_error_t *err)
{
        if (chdir(ctx->rootfs) < 0)
                return berth_error(err, errno, "enter the container's root `%s`", ctx->rootfs);
        ctx->rootfs = ".";
        for (size_t i = 0; i < ctx->nbinds; i++) {
                struct mount_op *op = &ctx->binds[i];
                char *src = NULL;
                if (op->kind == OP_SECRET)
                        src = xasprintf("./dev/.berth-secret-%zu", i);
                else if (op->kind == OP_BIND || op->kind == OP_BIND_RO || op->kind == OP_DEVICE) {
                        int fd = open(op->src, O_PATH | O_CLOEXEC);
                        if (fd < 0)
                                return berth_error(err, errno, "bind mount source `%s`", op->src);
                        src = xasprintf("/proc/self/fd/%d", fd);
                }
                if (src) {
                        free((char *) op->src);
                        op->src = src;
                }
        }
        return userns_become_root(err);
}

static __attribute__((noreturn)) void child_run(struct child_ctx *ctx)
{
        berth_error_t err = NULL;
        int fd = ctx->sync_fd;

        if (ctx->log_fds[0] >= 0 && (dup2(ctx->log_fds[0], 1) < 0 || dup2(ctx->log_fds[1], 2) < 0)) {
                berth_error(&err, errno, "connect the container's output to its log relay");
                child_fail(fd, &err);
        }
        if (ctx->journal_id) {
                /* Connected from this process, which is the container's main
                 * process for its whole life: journald resolves the unit (and
                 * its LogExtraFields=) from the stream's peer, and re-reads it
                 * while the peer lives.  Streams made by the short-lived shim
                 * would lose the CONTAINER_* fields once the shim is gone. */
                int o = journal_stream_open(ctx->journal_id, ctx->journal_unit, LOG_INFO);
                int e = journal_stream_open(ctx->journal_id, ctx->journal_unit, LOG_ERR);
                if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
                        berth_error(&err, o < 0 ? -o : e < 0 ? -e : errno, "connect the container's output to the journal");
                        child_fail(fd, &err);
                }
                close(o);
                close(e);
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                berth_error(&err, errno, "make mounts private");
                child_fail(fd, &err);
        }
        if (ctx->userns && userns_open_paths(ctx, &err) < 0)
                child_fail(fd, &err);
        /* lowerdir= uses the short l/ links relative to the store root */
        if (!ctx->userns && !ctx->root_mounted &&
            overlay_mount(ctx->store_root, ctx->rootfs, ctx->overlay_opts, 0, NULL, &err) < 0) {
                berth_error_wrap(&err, "cannot mount the container's root");
                child_fail(fd, &err);
        }
        size_t n;
        const struct mount_op *base = mounts_base(&n);
        for (size_t i = 0; i < n; i++) {
                /* with a user namespace the shim's helper mounted them */
                if (ctx->userns && (base[i].kind == OP_PROC || streq(base[i].dst, "/sys")))
                        continue;
                if (mounts_apply(&base[i], 1, ctx->rootfs, &err) < 0)
                        child_fail(fd, &err);
        }
        if (mounts_apply(ctx->binds, ctx->nbinds, ctx->rootfs, &err) < 0)
                child_fail(fd, &err);
        if (chdir(ctx->rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0) {
                berth_error(&err, errno, "pivot_root into the container");
                child_fail(fd, &err);
        }
        if (ctx->passwd_entry && (userns_add_entry("/etc/passwd", ctx->keep_uid, ctx->passwd_entry, &err) < 0 ||
                                  userns_add_entry("/etc/group", ctx->keep_gid, ctx->group_entry, &err) < 0))
                child_fail(fd, &err);
        if (!ctx->privileged) {
                const struct mount_op *conf = mounts_confine(&n);
                if (mounts_apply(conf, n, "", &err) < 0)
                        child_fail(fd, &err);
        }
        if (ctx->readonly && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
                berth_error(&err, errno, "make the root read-only");
                child_fail(fd, &err);
        }
        if (ctx->console_fd >= 0) {
                if (console_setup_child(ctx->console_fd, &err) < 0)
                        child_fail(fd, &err);
                close(ctx->console_fd);
        }
        if (ctx->hostname && sethostname(ctx->hostname, strlen(ctx->hostname)) < 0) {
                berth_error(&err, errno, "set hostname");
                child_fail(fd, &err);
        }

        struct user_spec us;
        if (user_resolve("", ctx->user, &us, &err) < 0)
                child_fail(fd, &err);
        if (!env_get(ctx->env, "HOME"))
                strv_push(&ctx->env, xasprintf("HOME=%s", us.home)); /* leaks into exec: fine */

        const char *wd = ctx->workdir && *ctx->workdir ? ctx->workdir : "/";
        if (chdir(wd) < 0) {
                /* Docker creates a missing working directory */
                if (errno != ENOENT || mkdir_p(wd, 0755, NULL) < 0 || chown(wd, us.uid, us.gid) < 0 || chdir(wd) < 0) {
                        berth_error(&err, errno, "chdir to cwd (\"%s\") set in config.json", wd);
                        child_fail(fd, &err);
                }
        }
        cleanup_free char *path = NULL;
        if (exec_lookup("", ctx->argv[0], ctx->env, &path, &err) < 0)
                child_fail(fd, &err);

        /* Ready: wait until systemd has made us the unit's main process, so
         * even a command that exits at once is seen exiting by it. */
        char go = 0;
        if (write(fd, "R", 1) != 1 || read(fd, &go, 1) != 1 || go != 'G')
                _exit(BERTH_EXIT_ENGINE);

        if (ctx->init) {
                pid_t child = fork();
                if (child < 0) {
                        berth_error(&err, errno, "fork the init's child");
                        child_fail(fd, &err);
                }
                if (child > 0) {
                        close(fd);
                        run_init(child);
                }
                setpgid(0, 0);
        }
        /* Nothing of berth's may leak into the container. */
        syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
        finish_and_exec(path, ctx->argv, ctx->env, &us, ctx->caps, &ctx->seccomp, ctx->nnp, &err);
        child_fail(fd, &err);
}

/* ---- the shim: ExecStart of the unit ------------------------------------------- */
static int write_etc_files(struct berth_store *s, struct berth_container *c, const char *hostname, bool host_net,
                           berth_error_t *err)
{
        cleanup_free char *p_host = xasprintf("%s/hostname", c->dir);
        cleanup_free char *text = xasprintf("%s\n", hostname);
        if (write_file_atomic_sync(p_host, text, strlen(text), 0644, WRITE_VOLATILE, err) < 0)
                return -1;

        cleanup_free char *hosts = NULL;
        if (host_net)
                (void) read_file("/etc/hosts", &hosts, NULL, NULL);
        if (!hosts)
                hosts = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                  "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                                  "ff02::2\tip6-allrouters\n127.0.1.1\t%s\n",
                                  hostname);
        cleanup_free char *p_hosts = xasprintf("%s/hosts", c->dir);
        if (write_file_atomic_sync(p_hosts, hosts, strlen(hosts), 0644, WRITE_VOLATILE, err) < 0)
                return -1;

        /* Like Docker: skip systemd-resolved's stub, use its upstream list. */
        cleanup_free char *resolv = NULL;
        if (read_file("/etc/resolv.conf", &resolv, NULL, NULL) < 0 || strstr(resolv, "127.0.0.53")) {
                free(resolv);
                resolv = NULL;
                if (read_file("/run/systemd/resolve/resolv.conf", &resolv, NULL, NULL) < 0)
                        resolv = xstrdup("");
        }
        if (!host_net) {
                /* the host's loopback is not the container's */
                char *own = network_resolv_conf(resolv);
                free(resolv);
                resolv = own;
        }
        cleanup_free char *p_resolv = xasprintf("%s/resolv.conf", c->dir);
        return write_file_atomic_sync(p_resolv, resolv, strlen(resolv), 0644, WRITE_VOLATILE, err);
}

static void add_bind(struct child_ctx *ctx, enum mount_op_kind kind, const char *src, const char *dst)
{
        ctx->binds = xrealloc(ctx->binds, (ctx->nbinds + 1) * sizeof(*ctx->binds));
        ctx->binds[ctx->nbinds++] = (struct mount_op) { .kind = kind, .src = xstrdup(src), .dst = xstrdup(dst) };
}

/* --secret: each value, read (decrypted) by the unit's own process, goes
 * into a tmpfs of the container's mount namespace (OP_SECRET): never on a
 * disk, gone with the container.  After the mounts, so a secret may land
 * in a volume or a --tmpfs. */
static int add_secrets(struct child_ctx *ctx, struct berth_store *s, json_t *cfg, const char *rundir,
                       berth_error_t *err)
{
        size_t i;
        json_t *m;
        json_array_foreach(json_at(cfg, "Berth.Secrets"), i, m)
        {
                const char *target = json_str(m, "Target"), *name = json_str(m, "Name") ?: "?";
                char *value = NULL;
                size_t len = 0;
                if (!target)
                        return berth_error(err, 0, "secret %s has no target in the container's record", name);
                if (secret_value_read(s, json_str(m, "ID") ?: "", &value, &len, err) < 0)
                        return berth_error_wrap(err, "secret %s", name);
                ctx->binds = xrealloc(ctx->binds, (ctx->nbinds + 1) * sizeof(*ctx->binds));
                ctx->binds[ctx->nbinds++] = (struct mount_op) {
                        .kind = OP_SECRET, .src = xasprintf("%s/secrets/%zu", rundir, i), .dst = xstrdup(target),
                        .content = value, .content_len = len, .uid = (uid_t) json_int(m, "UID", 0),
                        .gid = (gid_t) json_int(m, "GID", 0), .mode = (mode_t) json_int(m, "Mode", 0444),
                };
        }
        return 0;
}

/* Every char and block node under dir (the host's /dev), skipping what the
 * container gets its own of (pts, shm, mqueue) and the console, as runc's
 * HostDevices(). */
static void add_host_devices(struct child_ctx *ctx, const char *dir, int depth)
{
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.' || streq(de->d_name, "pts") || streq(de->d_name, "shm") ||
                    streq(de->d_name, "mqueue") || streq(de->d_name, "fd") || streq(de->d_name, "console"))
                        continue;
                cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) && depth > 0)
                        add_host_devices(ctx, path, depth - 1);
                else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                        add_bind(ctx, OP_DEVICE, path, path);
        }
}

/* A container with its own user namespace: its root owns the top of its
 * root file system (the upper dir), its /etc files, and its named volumes
 * (a new one shifted to its ids, Docker's and Podman's way), so what it
 * writes there lands with its mapped host ids. */
static int userns_give_files(struct berth_container *c, json_t *cfg, const struct idmap *uids,
                             const struct idmap *gids, berth_error_t *err)
{
        uint32_t u, g;
        if (!idmap_to_host(uids, 0, &u) || !idmap_to_host(gids, 0, &g))
                return berth_error(err, 0, "the id mappings of %s do not map its root", c->name);
        static const char *own[] = { "upper", "hostname", "hosts", "resolv.conf" };
        for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
                cleanup_free char *p = xasprintf("%s/%s", c->dir, own[i]);
                if (chown(p, u, g) < 0)
                        return berth_error(err, errno, "give `%s` to the container's root", p);
        }
        size_t i;
        json_t *m;
        json_array_foreach(json_at(cfg, "Berth.Mounts"), i, m)
        {
                const char *type = json_str(m, "Type"), *src = json_str(m, "Source");
                if (type && src && streq(type, "volume") && userns_shift_tree(src, uids, gids, err) < 0)
                        return -1;
        }
        return 0;
}

/* RUN/exits/ID.error: why the container could not start ("CODE message"),
 * kept past the removal of a --rm container for the client to read. */
/* The timer of the container's health checks (health-timer.h), run by this
 * very program (berth-runtime, or berth for definition containers). */
static int start_health_checks(struct berth_store *s, struct berth_container *c, berth_error_t *err)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        if (!hs.enabled)
                return 0;
        cleanup_free char *self = realpath("/proc/self/exe", NULL);
        cleanup_bus sd_bus *bus = NULL;
        if (!self)
                return berth_error(err, errno, "find the program to run the health checks of %s", c->name);
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        return health_timer_start(s, bus, c, self, err);
}

static void stop_health_checks(struct berth_container *c)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        if (!hs.enabled)
                return;
        cleanup_bus sd_bus *bus = NULL;
        berth_error_t e = NULL;
        if (unit_bus_open(&bus, &e) < 0 || health_timer_stop(bus, c, &e) < 0)
                berth_warn_error(&e, "the health checks of %s go on", c->name);
}

/* A user's root is mounted by the shim, in berth's mount namespace, of
 * which the container's is a copy: fuse-overlayfs, where it is the way,
 * then runs outside the container, in the unit's cgroup, until the stop
 * hook ends it (its pid file). */
static int shim_mount_root(struct berth_store *s, struct berth_container *c, struct child_ctx *ctx, berth_error_t *err)
{
        pid_t daemon = 0;
        cleanup_free char *pidfile = overlay_container_pidfile(s, c->id);
        overlay_daemon_stop(pidfile); /* one of a start that failed before its stop hook */
        if (overlay_mount(s->root, ctx->rootfs, ctx->overlay_opts, 0, &daemon, err) < 0)
                return berth_error_wrap(err, "cannot mount the container's root");
        ctx->root_mounted = true;
        return daemon > 0 ? overlay_daemon_record(pidfile, daemon, err) : 0;
}

static int record_start_error(struct berth_store *s, const char *id, const char *msg)
{
        cleanup_free char *p = store_run_path(s, "exits/%s.error", id);
        return write_file_atomic_sync(p, msg, strlen(msg), 0600, WRITE_VOLATILE, NULL);
}

int runtime_shim_enter(struct berth_store *s, const char *id, berth_error_t *err)
{
        if (!rootless())
                return 0;
        cleanup_container struct berth_container *c = NULL;
        if (container_load(s, id, &c, err) < 0)
                return -1;
        return runtime_enter_for_network(s, json_str(c->config, "HostConfig.NetworkMode"), err);
}

int runtime_enter_for_network(struct berth_store *s, const char *mode, berth_error_t *err)
{
        if (!rootless())
                return 0;
        if (!mode || !startswith(mode, "container:"))
                return rootless_enter(err);
        cleanup_container struct berth_container *other = NULL;
        if (container_lookup(s, mode + 10, &other, err) < 0)
                return -1;
        pid_t pid = (pid_t) json_int(other->state, "Pid", 0);
        if (!container_is_running(other) || pid <= 0)
                return berth_error(err, 0, "cannot join the network of container %s: it is not running", other->name);
        return rootless_enter_pid(pid, err);
}

int runtime_shim(struct berth_store *s, const char *id, bool attached, bool tty, berth_error_t *err)
{
        cleanup_container struct berth_container *c = NULL;
        if (container_load(s, id, &c, err) < 0)
                return -1;
        cleanup_free char *errfile = store_run_path(s, "exits/%s.error", id);
        unlink(errfile);
        cleanup_free char *rundir = store_run_path(s, "containers/%s", id);
        if (mkdir_p(rundir, 0700, err) < 0)
                return -1;

        json_t *cfg = c->config;
        /* the layers were resolved when the container was created */
        const char *lower = json_str(cfg, "Berth.LowerDir");
        if (!lower)
                return berth_error(err, 0, "container %s has no image layers recorded: re-create it", c->name);

        struct child_ctx ctx __attribute__((cleanup(child_ctx_clear))) = { .sync_fd = -1, .console_fd = -1,
                                                                            .log_fds = { -1, -1 } };
        cleanup_free char *rootfs = xasprintf("%s/rootfs", c->dir);
        ctx.rootfs = rootfs;
        ctx.store_root = s->root;
        ctx.overlay_opts = xasprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, c->dir, c->dir);
        struct idmap uids, gids;
        if (idmap_from_config(cfg, &uids, &gids, &ctx.userns, err) < 0)
                return berth_error_wrap(err, "the user namespace of container %s", c->name);

        const char *netmode = json_str(cfg, "HostConfig.NetworkMode");
        bool host_net = !netmode || streq(netmode, "host");
        cleanup_free char *host_hostname = NULL;
        const char *want_hostname = json_str(cfg, "Config.Hostname");
        if (host_net && (!want_hostname || !*want_hostname)) {
                char hn[256] = "";
                gethostname(hn, sizeof(hn) - 1);
                host_hostname = xstrdup(hn);
        }
        ctx.hostname = json_str(cfg, "Config.Hostname");
        if (!ctx.hostname || !*ctx.hostname)
                ctx.hostname = host_hostname ? host_hostname : json_str(cfg, "Id");
        char short_host[13];
        if (ctx.hostname == json_str(cfg, "Id")) {
                snprintf(short_host, sizeof(short_host), "%s", ctx.hostname);
                ctx.hostname = short_host;
        }
        if (write_etc_files(s, c, ctx.hostname, host_net, err) < 0)
                return -1;
        /* a user's keep-id or nomap: nested in berth's own namespace */
        bool whole = ctx.userns && rootless();
        if (ctx.userns && userns_give_files(c, cfg, &uids, &gids, err) < 0)
                return -1;
        if (whole && idmap_to_container(&uids, 0, &ctx.keep_uid) && idmap_to_container(&gids, 0, &ctx.keep_gid)) {
                /* keep-id: the user by name in the container, with a home */
                struct passwd *pw = getpwuid(rootless_uid());
                cleanup_free char *name = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) rootless_uid());
                cleanup_free char *home = pw && pw->pw_dir && *pw->pw_dir ? xstrdup(pw->pw_dir) : xstrdup("/");
                ctx.passwd_entry = xasprintf("%s:*:%" PRIu32 ":%" PRIu32 ":%s:%s:/bin/sh", name, ctx.keep_uid,
                                             ctx.keep_gid, name, home);
                ctx.group_entry = xasprintf("%s:x:%" PRIu32 ":", name, ctx.keep_gid);
        }
        static const char *etc[] = { "hostname", "hosts", "resolv.conf" };
        for (size_t i = 0; i < ARRAY_SIZE(etc); i++) {
                cleanup_free char *src = xasprintf("%s/%s", c->dir, etc[i]);
                cleanup_free char *dst = xasprintf("/etc/%s", etc[i]);
                add_bind(&ctx, OP_BIND, src, dst);
        }
        size_t i;
        json_t *m;
        /* -v DIR:PATH:idmap: the shim's helper idmaps DIR at SCRATCH/bN */
        cleanup_free char *scratch = xasprintf("%s/layers", rundir);
        cleanup_strv char **idmapped = NULL;
        json_array_foreach(json_at(cfg, "Berth.Mounts"), i, m)
        {
                cleanup_free char *staged = NULL;
                if (ctx.userns && json_bool(m, "IDMap")) {
                        if (whole)
                                return berth_error(err, 0, "-v %s:%s:idmap is for root's containers",
                                                   json_str(m, "Source"), json_str(m, "Destination"));
                        staged = xasprintf("%s/b%zu", scratch, strv_length(idmapped));
                        strv_push(&idmapped, json_str(m, "Source"));
                }
                add_bind(&ctx, json_bool(m, "ReadOnly") ? OP_BIND_RO : OP_BIND, staged ?: json_str(m, "Source"),
                         json_str(m, "Destination"));
        }
        json_array_foreach(json_at(cfg, "Berth.Tmpfs"), i, m)
        {
                /* --tmpfs PATH[:OPTIONS], Docker's default options otherwise */
                char *dst = xstrdup(json_string_value(m));
                char *opts = strchr(dst, ':');
                if (opts)
                        *opts++ = '\0';
                ctx.binds = xrealloc(ctx.binds, (ctx.nbinds + 1) * sizeof(*ctx.binds));
                ctx.binds[ctx.nbinds++] = (struct mount_op) { .kind = OP_TMPFS, .src = xstrdup("tmpfs"), .dst = dst,
                        .fstype = "tmpfs", .flags = MS_NOSUID | MS_NODEV,
                        .data = opts && *opts ? opts : "mode=1777" };
        }

        if (add_secrets(&ctx, s, cfg, rundir, err) < 0)
                return -1;

        /* --device nodes; --privileged: every node of the host's /dev, as
         * Docker's (the unit's device policy allows them) */
        json_array_foreach(json_at(cfg, "HostConfig.Devices"), i, m)
                add_bind(&ctx, OP_DEVICE, json_str(m, "PathOnHost"), json_str(m, "PathInContainer"));
        if (json_bool(cfg, "HostConfig.Privileged"))
                add_host_devices(&ctx, "/dev", 4);

        /* Notify=yes (definition containers): the container says READY=1
         * itself, through the unit's notify socket bound into it. */
        const char *notify_socket = getenv("NOTIFY_SOCKET");
        bool container_notifies = json_bool(cfg, "Berth.Notify") && notify_socket && notify_socket[0] == '/';
        if (container_notifies)
                add_bind(&ctx, OP_BIND, notify_socket, "/run/notify/notify.sock");

        ctx.privileged = json_bool(cfg, "HostConfig.Privileged");
        ctx.readonly = json_bool(cfg, "HostConfig.ReadonlyRootfs");
        ctx.tty = tty;
        ctx.init = json_bool(cfg, "HostConfig.Init");
        ctx.nnp = json_bool(cfg, "Berth.NoNewPrivileges");
        ctx.user = json_str(cfg, "Config.User");
        ctx.workdir = json_str(cfg, "Config.WorkingDir");
        cleanup_strv char **argv = json_strv(json_at(cfg, "Berth.Command"));
        if (!argv[0])
                return berth_error(err, 0, "no command specified");
        ctx.argv = argv;
        cleanup_strv char **env = json_strv(json_at(cfg, "Config.Env"));
        cleanup_free char *hn_env = xasprintf("HOSTNAME=%s", ctx.hostname);
        if (!env_get(env, "HOSTNAME"))
                strv_push(&env, hn_env);
        if (!env_get(env, "PATH"))
                strv_push(&env, "PATH=" DEFAULT_PATH);
        if (ctx.tty && !env_get(env, "TERM"))
                strv_push(&env, "TERM=xterm");
        if (container_notifies)
                strv_env_set(&env, "NOTIFY_SOCKET=/run/notify/notify.sock");
        ctx.env = env;

        cleanup_strv char **cap_add = json_strv(json_at(cfg, "HostConfig.CapAdd"));
        cleanup_strv char **cap_drop = json_strv(json_at(cfg, "HostConfig.CapDrop"));
        if (caps_compute(cap_add, cap_drop, ctx.privileged, &ctx.caps, err) < 0)
                return -1;
        const char *profile = json_str(cfg, "Berth.SeccompProfile");
        cleanup_free char *seccomp_cache = store_run_path(s, "seccomp");
        if (!ctx.privileged && seccomp_program(profile, ctx.caps, seccomp_cache, &ctx.seccomp, err) < 0)
                return -1;

        /* Detached: the output goes to the journal with the CONTAINER_*
         * fields.  Root's unit adds them to its streams (LogExtraFields=);
         * a user's manager does not pass that on to journald (systemd 252),
         * so a user's container writes into pipes that its log relay reads. */
        struct log_relay relay __attribute__((cleanup(log_relay_close))) = LOG_RELAY_INIT;
        if (!attached && rootless()) {
                if (log_relay_prepare(&relay, s, c, err) < 0)
                        return -1;
                ctx.log_fds[0] = relay.out[1];
                ctx.log_fds[1] = relay.err[1];
        } else if (!attached) {
                ctx.journal_id = c->name;
                ctx.journal_unit = container_unit(c);
        }

        cleanup_close int console = -1;
        if (tty) {
                /* the client listens there; the child sends the pty master */
                struct sockaddr_un sa;
                cleanup_free char *path = store_run_path(s, "containers/%s/console.sock", id);
                cleanup_close int dirfd = -1;
                if (unix_addr_in_dir(rundir, "console.sock", &sa, &dirfd, err) < 0)
                        return -1;
                console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (console < 0 || connect(console, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        return berth_error(err, errno, "connect to the console socket `%s`", path);
                ctx.console_fd = console;
        }
        int sync[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
                return berth_error(err, errno, "socketpair");
        /* CLONE_PARENT: the container's process is systemd's child from the
         * start, so systemd supervises it fully as the unit's main process
         * (an adopted "alien" main PID would not be waited for on stop). */
        int flags = CLONE_PARENT | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
        if (network_mode_private(netmode))
                flags |= CLONE_NEWNET;
        if (ctx.userns)
                flags |= CLONE_NEWUSER; /* created first: it owns the others */
        if (ctx.userns && netmode && startswith(netmode, "container:")) {
                close(sync[0]);
                close(sync[1]);
                return berth_error(err, 0, "--network container: is not supported with a user namespace yet");
        }
        cleanup_close int join_net = -1; /* --network container:NAME */
        if (network_join_fd(s, netmode, c->id, &join_net, err) < 0) {
                close(sync[0]);
                close(sync[1]);
                return -1;
        }
        if (rootless() && !ctx.userns && shim_mount_root(s, c, &ctx, err) < 0) {
                close(sync[0]);
                close(sync[1]);
                return -1;
        }
        pid_t pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
        if (pid < 0) {
                close(sync[0]);
                close(sync[1]);
                return berth_error(err, errno, "create the container's process and namespaces");
        }
        if (pid == 0) {
                close(sync[0]);
                ctx.sync_fd = sync[1];
                if (ctx.userns) {
                        /* the shim writes the maps and mounts the root first */
                        char go_on = 0;
                        if (read(ctx.sync_fd, &go_on, 1) != 1 || go_on != 'M')
                                _exit(BERTH_EXIT_ENGINE);
                }
                if (join_net >= 0 && setns(join_net, CLONE_NEWNET) < 0) {
                        berth_error_t e = NULL;
                        berth_error(&e, errno, "join the network namespace of %s", netmode + 10);
                        child_fail(ctx.sync_fd, &e);
                }
                if (flags & CLONE_NEWNET) {
                        /* bring loopback up: the only interface of --network none */
                        int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                        struct ifreq ifr = { .ifr_name = "lo" };
                        if (sk >= 0 && ioctl(sk, SIOCGIFFLAGS, &ifr) == 0) {
                                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                                (void) ioctl(sk, SIOCSIFFLAGS, &ifr);
                        }
                        if (sk >= 0)
                                close(sk);
                }
                child_run(&ctx);
        }
        close(sync[1]);
        if (relay.out[0] >= 0 && log_relay_start(&relay, err) < 0) {
                kill(pid, SIGKILL);
                close(sync[0]);
                return -1;
        }
        if (ctx.userns) {
                cleanup_free char *upper = xasprintf("%s/upper", c->dir), *work = xasprintf("%s/work", c->dir);
                struct userns_rootfs ur = { .store_root = s->root, .lower = lower, .upper = upper, .work = work,
                                            .rootfs = rootfs, .scratch = scratch, .idmapped = idmapped,
                                            .whole = whole };
                if (userns_write_maps(pid, &uids, &gids, err) < 0 || userns_mount_rootfs(pid, &ur, err) < 0 ||
                    send(sync[0], "M", 1, MSG_NOSIGNAL) != 1) {
                        kill(pid, SIGKILL);
                        close(sync[0]);
                        if (!*err)
                                berth_error(err, errno, "start the container's process");
                        cleanup_free char *text = xasprintf("%d %s", BERTH_EXIT_ENGINE, (*err)->msg);
                        record_start_error(s, id, text);
                        return -1;
                }
        }
        char buf[4096];
        ssize_t len;
        while ((len = recv(sync[0], buf, sizeof(buf) - 1, 0)) < 0 && errno == EINTR)
                ;
        buf[len > 0 ? len : 0] = '\0';
        if (len <= 0 || buf[0] != 'R') {
                /* the child reaps itself: it is systemd's child, not ours */
                close(sync[0]);
                const char *text = len > 0 ? buf + 1 : "125 the container process died during setup";
                char *msg = strchr(text, ' ');
                int code = atoi(text);
                record_start_error(s, id, text);
                return berth_error_exit(err, code ? code : BERTH_EXIT_ENGINE, 0, "%s", msg ? msg + 1 : text);
        }

        /* The child waits in its own network namespace: connect it (the
         * shim is in the host's, with CAP_NET_ADMIN).  On failure the unit's
         * ExecStopPost undoes what was done. */
        if (network_attach(s, c, pid, err) < 0) {
                kill(pid, SIGKILL);
                close(sync[0]);
                return -1;
        }

        /* Running: record it, then hand the main PID over to systemd. */
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        cleanup_free char *started = format_rfc3339(now_ns());
        json_object_set_new(c->state, "Status", json_string("running"));
        json_object_set_new(c->state, "Pid", json_integer(pid));
        json_object_set_new(c->state, "StartTime", json_integer(proc_starttime(pid)));
        json_object_set_new(c->state, "StartedAt", json_string(started));
        json_object_set_new(c->state, "ExitCode", json_integer(0));
        json_object_set_new(c->state, "Error", json_string(""));
        json_object_set_new(c->state, "OOMKilled", json_false());
        if (container_save_state(c, err) < 0) {
                kill(pid, SIGKILL);
                return -1;
        }
        if (start_health_checks(s, c, err) < 0) {
                kill(pid, SIGKILL);
                close(sync[0]);
                return -1;
        }
        /* The record is written: let go of its lock before the handover.
         * From READY=1 on, a `berth pause` may stop or freeze this process
         * (it is in the unit's cgroup) before it exits; holding the lock
         * then would block pause's own state write for good. */
        close(steal_fd(&lfd));
        /* The one start event, whoever starts the unit (berth, a restart by
         * systemd): before the handover, so it precedes what berth does next. */
        container_event(c, "start", NULL);
        /* Notify=healthy: the first passing health check says READY=1 */
        bool ready_later = container_notifies || json_bool(cfg, "Berth.NotifyHealthy");
        cleanup_free char *notify = xasprintf("MAINPID=%d%s", (int) pid, ready_later ? "" : "\nREADY=1");
        int r = sd_notify(0, notify);
        if (r > 0)
                r = sd_notify_barrier(0, 5 * 1000000ULL);
        if (r <= 0) {
                kill(pid, SIGKILL);
                close(sync[0]);
                return berth_error(err, r < 0 ? -r : 0, "hand the container over to systemd (sd_notify)");
        }
        (void) send(sync[0], "G", 1, MSG_NOSIGNAL);
        close(sync[0]);
        return 0;
}

/* ---- the stop hook ------------------------------------------------------------ */
/* oom: -1 to read it from our own cgroup (the unit's, in its stop hook). */
static int finish_exited(struct berth_store *s, struct berth_container *c, int exit_code, int oom_known,
                         berth_error_t *err);

int runtime_cleanup_by_client(struct berth_store *s, struct berth_container *c, int exit_code, bool oom,
                              berth_error_t *err)
{
        return finish_exited(s, c, exit_code, oom, err);
}

int runtime_cleanup(struct berth_store *s, const char *id, berth_error_t *err)
{
        const char *code = getenv("EXIT_CODE");
        const char *status = getenv("EXIT_STATUS");
        int exit_code = 0;
        if (code && status) {
                if (streq(code, "exited"))
                        exit_code = atoi(status);
                else {
                        /* systemd names the signal as kill -l does ("KILL",
                         * "RTMIN+3"); one it cannot name is a number */
                        int sig = 0;
                        (void) parse_signal(status, &sig, NULL);
                        exit_code = 128 + sig;
                }
        }
        cleanup_container struct berth_container *c = NULL;
        if (container_load(s, id, &c, err) < 0)
                return -1;
        return finish_exited(s, c, exit_code, -1, err);
}

static int finish_exited(struct berth_store *s, struct berth_container *c, int exit_code, int oom_known,
                         berth_error_t *err)
{
        const char *id = c->id;
        if (rootless())
                log_relay_wait(s, id);
        stop_health_checks(c);
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        cleanup_free char *finished = format_rfc3339(now_ns());
        cleanup_free char *errfile = store_run_path(s, "exits/%s.error", id);
        cleanup_free char *start_error = NULL;
        if (read_file(errfile, &start_error, NULL, NULL) == 0) {
                char *msg = strchr(start_error, ' ');
                json_object_set_new(c->state, "Error", json_string(msg ? msg + 1 : start_error));
        }
        /* the recorded status only: container_is_running() would wait for this very hook */
        const char *st = json_str(c->state, "Status");
        bool was_running = st && (streq(st, "running") || streq(st, "paused"));
        /* veth, nft rules, address, ports, peers' hosts; the processes are
         * gone, so the veths go with their namespace unless another
         * container joined it */
        network_detach(s, c, network_links_go_with_netns(s, c));
        cleanup_free char *secrets = store_run_path(s, "containers/%s/secrets", id);
        (void) rm_rf(secrets, NULL); /* the mount points of --secret's tmpfs */
        cleanup_free char *fuse = overlay_container_pidfile(s, id);
        overlay_daemon_stop(fuse); /* a user's root through fuse-overlayfs */
        /* Docker's State.OOMKilled: the kernel's OOM killer ended it */
        bool oom = was_running && (oom_known >= 0 ? oom_known > 0 : unit_cgroup_oom_killed());
        json_object_set_new(c->state, "Status", json_string("exited"));
        json_object_set_new(c->state, "Pid", json_integer(0));
        json_object_set_new(c->state, "ExitCode", json_integer(exit_code));
        json_object_set_new(c->state, "FinishedAt", json_string(finished));
        json_object_set_new(c->state, "OOMKilled", json_boolean(oom));
        /* a --rm container's record goes below: its last state need not
         * reach the disk first (only if the removal fails) */
        bool auto_remove = json_bool(c->config, "HostConfig.AutoRemove");
        if (!auto_remove && container_save_state(c, err) < 0)
                return -1;
        if (was_running) {
                if (oom)
                        container_event(c, "oom", NULL);
                /* die from the stop hook, so an exit no berth command saw has its event */
                cleanup_free char *ec = xasprintf("exitCode=%d", exit_code);
                char *attrs[] = { ec, NULL };
                container_event(c, "die", attrs);
        }
        if (auto_remove) {
                cleanup_free char *exitfile = store_run_path(s, "exits/%s", id);
                cleanup_free char *text = xasprintf("%d\n", exit_code);
                (void) write_file_atomic_sync(exitfile, text, strlen(text), 0600, WRITE_VOLATILE, NULL);
                close(steal_fd(&lfd));
                if (container_remove(s, c, err) < 0) {
                        (void) container_save_state(c, NULL);
                        return -1;
                }
                volume_remove_anonymous(s, c->config); /* --rm takes its anonymous volumes along */
                return 0;
        }
        return 0;
}
