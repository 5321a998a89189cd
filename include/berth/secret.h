/* berth — secrets: small values (passwords, keys, certificates) kept out of
 * images, environments and container records, handed to a container as a
 * read-only file (`berth secret`, `run --secret`), as Podman's and Docker
 * swarm's secrets, without a daemon.
 *
 * Layout:
 *   ROOT/secrets/                  0700
 *   ROOT/secrets/ID/meta.json      {"ID" (25 hex, as Podman's), "Name",
 *                                   "Driver": "file", "CreatedAt",
 *                                   "UpdatedAt", "Labels": {},
 *                                   "Encrypted": bool}
 *   ROOT/secrets/ID/value          0600: the value, or when Encrypted what
 *                                  `systemd-creds encrypt --name=NAME` made
 *                                  of it (the host key and/or the TPM2;
 *                                  decrypted only by the start of a
 *                                  container that uses it)
 *
 * A secret is staged in ROOT/tmp and renamed into place under the exclusive
 * store lock, after checking that no other secret has its name.  Which
 * containers use a secret is read from their config.json (Berth.Secrets:
 * Name, ID, Target, UID, GID, Mode; never the value), so it cannot go
 * stale; rm checks it under the same lock that a create holds while it
 * checks its secrets still exist and writes its record.
 */
#ifndef BERTH_SECRET_H
#define BERTH_SECRET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "berth/error.h"
#include "berth/store.h"

/* Docker's limit on a secret's size (and no empty ones). */
#define SECRET_MAX_SIZE (512 * 1024)

/* Docker's names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters. */
bool secret_name_valid(const char *name);

/* ---- run --secret ------------------------------------------------------- */
/* NAME[,target=PATH][,uid=N][,gid=N][,mode=OCTAL] (also source=NAME and
 * type=mount, as Podman's).  target: absolute, or relative to /run/secrets
 * (the default is /run/secrets/NAME); mode defaults to 0444 and uid/gid to
 * 0, as Docker's.  Syntax only: whether NAME exists is create's business. */
struct secret_ref {
        char *name;
        char *target; /* absolute, cleaned */
        uid_t uid;
        gid_t gid;
        mode_t mode;
};
int secret_ref_parse(const char *spec, struct secret_ref *out, berth_error_t *err);
void secret_ref_clear(struct secret_ref *r);
/* The syntax alone (run --secret, a definition's Secret=). */
int secret_ref_check(const char *spec, berth_error_t *err);

/* For create: the --secret specs as config.json Berth.Secrets entries
 * ({"Name", "ID", "Target", "UID", "GID", "Mode"}), each secret looked up
 * ("No such secret: NAME"); two secrets at one target are refused. */
int secret_prepare_mounts(struct berth_store *s, char *const *specs, json_t **out, berth_error_t *err);
/* Under the exclusive store lock, just before the record is written: every
 * secret of config's Berth.Secrets still exists (an rm may have come
 * between the lookup and the lock). */
int secret_check_config(struct berth_store *s, json_t *config, berth_error_t *err);

/* ---- the store ---------------------------------------------------------- */
struct secret_info {
        char *id;
        char *name;
        json_t *meta; /* meta.json */
};
void secret_info_free(struct secret_info *i);

/* secret create: NAME with value (1 byte to SECRET_MAX_SIZE) and labels
 * (object or NULL); encrypted with systemd-creds when it can, else stored
 * as it is (0600 under a 0700 directory).  A taken name is an error.
 * *id_out (may be NULL) gets the new ID. */
int secret_create(struct berth_store *s, const char *name, const void *value, size_t len, json_t *labels,
                  char **id_out, berth_error_t *err);
/* By name, full ID or unique ID prefix; "No such secret: REF" (exit 1). */
int secret_get(struct berth_store *s, const char *ref, struct secret_info *out, berth_error_t *err);
/* Every secret, sorted by name.  A record that cannot be read fails the
 * list (a name could be taken by it). */
int secret_list(struct berth_store *s, struct secret_info **out, size_t *n, berth_error_t *err);
void secret_list_free(struct secret_info *v, size_t n);
/* secret rm: refused while a container (running or not) uses it, and when
 * a container record cannot be read (nobody can tell). */
int secret_remove(struct berth_store *s, const char *ref, berth_error_t *err);

/* The value of the secret with this ID, decrypted if need be (malloc'ed,
 * *len bytes; NUL-terminated for convenience).  Only for a container's
 * start: nothing else ever reads a value back. */
int secret_value_read(struct berth_store *s, const char *id, char **value, size_t *len, berth_error_t *err);

#endif
