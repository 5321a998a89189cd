/* berth — capabilities (libcap), as Docker does them.
 *
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
 * caps_prepare_bounding() and caps_finish() go around the uid change in the
 * container's child, in the order seccomp.h describes.
 */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/error.h"

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

#endif
