/* berth — what the container's process and `berth exec` share: users from
 * the container's /etc/passwd, PATH lookup, and the last steps before exec
 * (user, capabilities, seccomp). */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "berth/caps.h"
#include "berth/runtime-internal.h"
#include "berth/util.h"

/* ---- users ------------------------------------------------------------------ */
void user_spec_free(struct user_spec *u)
{
        free(u->groups);
        free(u->home);
        u->groups = NULL;
        u->home = NULL;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

int user_resolve(const char *rootdir, const char *user, struct user_spec *out, berth_error_t *err)
{
        *out = (struct user_spec) { .uid = 0, .gid = 0 };
        cleanup_free char *u = xstrdup(user && *user ? user : "0");
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        cleanup_free char *pw_path = xasprintf("%s/etc/passwd", rootdir);
        cleanup_free char *gr_path = xasprintf("%s/etc/group", rootdir);
        bool found_user = false;
        cleanup_free char *name = NULL;

        cleanup_fclose FILE *pf = fopen(pw_path, "re");
        struct passwd pw, *pwp;
        char buf[4096];
        while (pf && fgetpwent_r(pf, &pw, buf, sizeof(buf), &pwp) == 0) {
                bool match = all_digits(u) ? pw.pw_uid == (uid_t) strtoul(u, NULL, 10) : streq(pw.pw_name, u);
                if (!match)
                        continue;
                out->uid = pw.pw_uid;
                out->gid = pw.pw_gid;
                out->home = xstrdup(pw.pw_dir);
                name = xstrdup(pw.pw_name);
                found_user = true;
                break;
        }
        if (!found_user) {
                if (!all_digits(u))
                        return berth_error(err, 0, "unable to find user %s: no matching entries in passwd file", u);
                out->uid = strtoul(u, NULL, 10);
                out->gid = 0;
                out->home = xstrdup("/");
        }

        cleanup_fclose FILE *gf = fopen(gr_path, "re");
        if (g) {
                bool found = false;
                if (all_digits(g)) {
                        out->gid = strtoul(g, NULL, 10);
                        found = true;
                }
                struct group gr, *grp;
                while (!found && gf && fgetgrent_r(gf, &gr, buf, sizeof(buf), &grp) == 0)
                        if (streq(gr.gr_name, g)) {
                                out->gid = gr.gr_gid;
                                found = true;
                        }
                if (!found) {
                        user_spec_free(out);
                        return berth_error(err, 0, "unable to find group %s: no matching entries in group file", g);
                }
        } else if (name && gf) {
                /* supplementary groups of a named user, as Docker does */
                struct group gr, *grp;
                while (fgetgrent_r(gf, &gr, buf, sizeof(buf), &grp) == 0)
                        for (char **m = gr.gr_mem; m && *m; m++)
                                if (streq(*m, name) && gr.gr_gid != out->gid) {
                                        out->groups = xrealloc(out->groups, (out->ngroups + 1) * sizeof(gid_t));
                                        out->groups[out->ngroups++] = gr.gr_gid;
                                }
        }
        return 0;
}

const char *env_get(char *const *env, const char *key)
{
        size_t l = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], key, l) == 0 && env[i][l] == '=')
                        return env[i] + l + 1;
        return NULL;
}

/* Find argv0 in PATH (from env) inside rootdir; sets Docker's exit code in err
 * (127 not found, 126 not executable). *path_out is the path inside the
 * container. */
int exec_lookup(const char *rootdir, const char *argv0, char *const *env, char **path_out, berth_error_t *err)
{
        struct stat st;
        if (strchr(argv0, '/')) {
                cleanup_free char *p = xasprintf("%s/%s", rootdir, argv0);
                if (stat(p, &st) < 0)
                        return berth_error_exit(err, BERTH_EXIT_NOT_FOUND, 0,
                                                "exec: \"%s\": stat %s: no such file or directory", argv0, argv0);
                if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111))
                        return berth_error_exit(err, BERTH_EXIT_CANNOT_EXEC, 0, "exec: \"%s\": permission denied",
                                                argv0);
                *path_out = xstrdup(argv0);
                return 0;
        }
        const char *path = env_get(env, "PATH");
        cleanup_free char *copy = xstrdup(path ? path : DEFAULT_PATH);
        char *save = NULL;
        bool denied = false;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                cleanup_free char *p = xasprintf("%s/%s/%s", rootdir, dir, argv0);
                if (stat(p, &st) < 0 || S_ISDIR(st.st_mode))
                        continue;
                if (!(st.st_mode & 0111)) {
                        denied = true;
                        continue;
                }
                *path_out = xasprintf("%s/%s", dir, argv0);
                return 0;
        }
        if (denied)
                return berth_error_exit(err, BERTH_EXIT_CANNOT_EXEC, 0, "exec: \"%s\": permission denied", argv0);
        return berth_error_exit(err, BERTH_EXIT_NOT_FOUND, 0, "exec: \"%s\": executable file not found in $PATH",
                                argv0);
}

/* ---- the child ---------------------------------------------------------------- */
/* Report a setup failure to the shim over the sync pipe and exit. */
__attribute__((noreturn)) void child_fail(int sync_fd, berth_error_t *err)
{
        int code = *err ? (*err)->exit_code : BERTH_EXIT_ENGINE;
        cleanup_free char *msg = xasprintf("E%d %s", code, *err ? (*err)->msg : "container setup failed");
        (void) write_all(sync_fd, msg, strlen(msg));
        _exit(code);
}

/* Apply user, capabilities, seccomp, then exec: shared by the container's
 * process and `berth exec`.  Only returns on failure (err set). */
static bool setgroups_denied(void)
{
        cleanup_free char *v = NULL;
        return read_file("/proc/self/setgroups", &v, NULL, NULL) == 0 && startswith(v, "deny");
}

int finish_and_exec(const char *path, char **argv, char **env, const struct user_spec *us, uint64_t caps,
                           const struct seccomp_program *seccomp, bool nnp, berth_error_t *err)
{
        /* the order the kernel requires: see include/berth/seccomp.h */
        if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berth_error(err, errno, "set no_new_privs");
        if (!nnp && seccomp_load_program(seccomp, err) < 0)
                return -1;
        if (caps_prepare_bounding(caps, err) < 0)
                return -1;
        /* EPERM: a user namespace with setgroups denied (a user without
         * subordinate ids: only the user's group exists there) */
        if (setgroups(us->ngroups, us->groups) < 0 && !(errno == EPERM && setgroups_denied()))
                return berth_error(err, errno, "setgroups");
        if (setresgid(us->gid, us->gid, us->gid) < 0)
                return berth_error(err, errno, "setgid %u", (unsigned) us->gid);
        if (setresuid(us->uid, us->uid, us->uid) < 0)
                return berth_error(err, errno, "setuid %u", (unsigned) us->uid);
        if (caps_finish(caps, err) < 0)
                return -1;
        if (nnp && seccomp_load_program(seccomp, err) < 0)
                return -1;
        execve(path, argv, env);
        int e = errno;
        if (e == ENOENT)
                return berth_error_exit(err, BERTH_EXIT_NOT_FOUND, 0, "exec: \"%s\": no such file or directory",
                                        argv[0]);
        return berth_error_exit(err, BERTH_EXIT_CANNOT_EXEC, e, "exec: \"%s\"", argv[0]);
}
