/* berth — what the files of src/runtime/ share: the last steps before a
 * container's process or an exec'd one runs (process.c). */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/error.h"
#include "berth/runtime.h"
#include "berth/seccomp.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* KEY's value in a "K=V" list, or NULL. */
const char *env_get(char *const *env, const char *key);
/* Find argv0 in PATH (from env) inside rootdir; sets Docker's exit code in
 * err (127 not found, 126 not executable).  *path_out is the path inside the
 * container. */
int exec_lookup(const char *rootdir, const char *argv0, char *const *env, char **path_out, berth_error_t *err);
/* Report a setup failure to the waiting parent over the sync pipe
 * ("E<code> <msg>") and exit. */
__attribute__((noreturn)) void child_fail(int sync_fd, berth_error_t *err);
/* Apply user, capabilities, seccomp, then exec.  Only returns on failure. */
int finish_and_exec(const char *path, char **argv, char **env, const struct user_spec *us, uint64_t caps,
                    const struct seccomp_program *seccomp, bool nnp, berth_error_t *err);

#endif
