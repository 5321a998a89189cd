/* berth — seccomp (libseccomp), as Docker does it.
 *
 * seccomp_build() turns a Docker-format profile (the JSON of
 * `--security-opt seccomp=FILE`) into a libseccomp filter, in the parent.  The
 * built-in default is Docker's default profile (moby profiles/seccomp/
 * default.json), kept as an embedded JSON text and fed to the same parser, so
 * there is one code path for rules.  The filter has SCMP_FLTATR_CTL_NNP=0:
 * loading it never sets no_new_privs behind the caller's back.  Docker runs
 * `--privileged` containers unconfined: the caller passes "unconfined" then.
 *
 * Order in the container's child (what runc does; the kernel requires it),
 * with capabilities from caps.h:
 *
 *     ... mounts, pivot_root, hostname, chdir(workdir) (still root: a
 *         missing working directory is made) ...
 *     if (no_new_privs)              prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
 *     if (!no_new_privs)   seccomp_load_program(&program, &err);
 *             (loading a filter without NNP needs CAP_SYS_ADMIN, which the
 *              container usually does not keep: load it while still root with
 *              all capabilities.  The profile must then allow setgroups,
 *              setgid, setuid, capset and prctl — Docker's default does.)
 *     caps_prepare_bounding(mask, &err);    drop bounding set, PR_SET_KEEPCAPS=1
 *     setgroups(n, groups); setresgid(gid...); setresuid(uid...);
 *     caps_finish(mask, &err);              KEEPCAPS=0, P=E=mask, I=A=0
 *     if (no_new_privs)    seccomp_load_program(&program, &err);
 *             (with NNP no capability is needed: load as late as possible)
 *     execve(...);
 *
 * (src/runtime/runtime.c finish_and_exec(), for the container's process and
 * for `berth exec`; the program comes from seccomp_program(), compiled in the
 * parent and cached.)
 */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <stdint.h>

#include <linux/filter.h>
#include <seccomp.h>

#include "berth/error.h"

/* Docker's default profile (moby profiles/seccomp/default.json), as JSON. */
extern const char seccomp_default_profile_json[];

/* Build the filter, in the parent.  profile: NULL → Docker's default profile;
 * "unconfined" → *out = NULL (no filter); anything else is the text of a
 * Docker-format profile:
 *   defaultAction, defaultErrnoRet, architectures | archMap, flags,
 *   syscalls[]: names (or name), action, errnoRet, args[] {index, value,
 *   valueTwo, op}, includes / excludes {caps, arches, minKernel}.
 * includes/excludes are resolved against caps_mask (the container's
 * capabilities), the native architecture and the running kernel, as Docker
 * does; syscall names libseccomp does not know are skipped.  A bad profile
 * fails with one line naming the problem, e.g.
 *   seccomp profile: unknown action "SCMP_ACT_FOO"
 * *out is freed with seccomp_release() (or cleanup_seccomp). */
int seccomp_build(const char *profile, uint64_t caps_mask, scmp_filter_ctx *out, berth_error_t *err);

static inline void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}
#define cleanup_seccomp __attribute__((cleanup(seccomp_releasep)))

/* A compiled filter, cached in cache_dir by (profile, capabilities, native
 * architecture, libseccomp version), so starting a container does not run
 * libseccomp's compiler.  "unconfined" gives an empty program (filter NULL). */
struct seccomp_program {
        struct sock_filter *filter;
        unsigned short len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
};
int seccomp_program(const char *profile, uint64_t caps_mask, const char *cache_dir, struct seccomp_program *out,
                    berth_error_t *err);
/* seccomp(SECCOMP_SET_MODE_FILTER) of the program in the calling process
 * (the container's child; see the order above): it needs no_new_privs or
 * CAP_SYS_ADMIN, else fails with EACCES.  NULL filter (unconfined): no-op. */
int seccomp_load_program(const struct seccomp_program *p, berth_error_t *err);
void seccomp_program_free(struct seccomp_program *p);

#endif
