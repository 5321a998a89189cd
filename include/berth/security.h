/* berth — capabilities (libcap) and seccomp (libseccomp), as Docker does them.
 *
 * Capabilities
 * ------------
 * The set a container gets is a bit mask (bit N = capability N, as in
 * /proc/PID/status).  caps_compute() turns `--cap-add`, `--cap-drop` and
 * `--privileged` into that mask exactly like Docker's TweakCapabilities():
 * start from Docker's default set (caps_default_mask()), `--privileged` = every
 * capability the running kernel knows (adds/drops ignored), add ALL = all
 * minus the drops, drop ALL = only the adds, otherwise default − drops + adds.
 * Names are case-insensitive, with or without the CAP_ prefix ("net_admin",
 * "CAP_NET_ADMIN"); "ALL" is the only special word.
 *
 * What the container process ends up with follows Docker (moby ≥ 20.10.14,
 * after CVE-2022-24769) and runc: before execve, bounding = permitted =
 * effective = mask, inheritable = ambient = empty, for every user.  The kernel
 * then does the rest at execve: uid 0 keeps the mask (CapEff = CapPrm = mask),
 * any other uid ends with CapEff = CapPrm = 0 and CapBnd = mask (only file
 * capabilities can grant something, up to the bounding set).  So no "root or
 * not" switch is needed here: the distinction is the kernel's.
 *
 * Seccomp
 * -------
 * seccomp_build() turns a Docker-format profile (the JSON of
 * `--security-opt seccomp=FILE`) into a libseccomp filter, in the parent.  The
 * built-in default is Docker's default profile (moby profiles/seccomp/
 * default.json), kept as an embedded JSON text and fed to the same parser, so
 * there is one code path for rules.  The filter has SCMP_FLTATR_CTL_NNP=0:
 * loading it never sets no_new_privs behind the caller's back.  Docker runs
 * `--privileged` containers unconfined: the caller passes "unconfined" then.
 *
 * Order in the container's child (what runc does; the kernel requires it):
 *
 *     ... mounts, pivot_root, hostname, rlimits ...
 *     if (no_new_privs)              prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
 *     if (!no_new_privs)   seccomp_load_program(&program, &err);
 *             (loading a filter without NNP needs CAP_SYS_ADMIN, which the
 *              container usually does not keep: load it while still root with
 *              all capabilities.  The profile must then allow setgroups,
 *              setgid, setuid, capset and prctl — Docker's default does.)
 *     caps_prepare_bounding(mask, &err);    drop bounding set, PR_SET_KEEPCAPS=1
 *     setgroups(n, groups); setgid(gid); setuid(uid);
 *     caps_finish(mask, &err);              KEEPCAPS=0, P=E=mask, I=A=0
 *     chdir(workdir);
 *     if (no_new_privs)    seccomp_load_program(&program, &err);
 *             (with NNP no capability is needed: load as late as possible)
 *     execve(...);
 *
 * (src/runtime.c finish_and_exec(); the program comes from seccomp_program(),
 * compiled in the parent and cached.)
 */
#ifndef BERTH_SECURITY_H
#define BERTH_SECURITY_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/filter.h>
#include <seccomp.h>

#include "berth/error.h"

/* ---- capabilities --------------------------------------------------------- */

#define CAPS_BIT(c) (UINT64_C(1) << (c))
/* Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID
 * SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. */
uint64_t caps_default_mask(void);

/* Every capability the running kernel knows (bits 0 .. cap_max_bits()-1). */
uint64_t caps_all_mask(void);

/* Docker-style capability name ("chown", "CAP_CHOWN", "Cap_Chown") → number.
 * Returns 0, or -1 when the name is not a capability the running kernel knows
 * ("ALL" is not a capability either). */
int cap_from_name_docker(const char *name, int *cap);

/* Compute the container's capability mask from NULL-terminated add/drop lists
 * (either may be NULL).  An unknown name fails with
 *   unknown capability: "CAP_FOO"
 * (the name upper-cased, with the CAP_ prefix, as Docker prints it). */
int caps_compute(char *const *add, char *const *drop, bool privileged, uint64_t *mask_out, berth_error_t *err);

/* Upper-case names ("CAP_CHOWN", ...) of the bits set in mask, lowest bit
 * first, as a NULL-terminated strv (free with strv_free).  Returns the count. */
int caps_names(uint64_t mask, char ***out);

/* Child, before setgroups/setgid/setuid: drop every capability not in mask
 * from the bounding set and set PR_SET_KEEPCAPS so that permitted survives the
 * uid change.  Needs CAP_SETPCAP (the child is still full root here). */
int caps_prepare_bounding(uint64_t mask, berth_error_t *err);
/* Child, after setuid: clear PR_SET_KEEPCAPS, set permitted = effective =
 * mask, inheritable = empty, clear the ambient set.  Capabilities the process
 * itself no longer has (e.g. --privileged inside a restricted sandbox) are
 * left out rather than failing. */
int caps_finish(uint64_t mask, berth_error_t *err);

/* ---- seccomp ----------------------------------------------------------------- */

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
