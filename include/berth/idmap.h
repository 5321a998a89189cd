/* berth — user namespaces for root's containers: id mappings (`--uidmap
 * CONTAINER:HOST:SIZE`), the subordinate ranges of /etc/subuid and
 * /etc/subgid, and the allocation of `--userns=auto` ranges.
 *
 * An auto range is recorded in its container's config.json
 * (HostConfig.IDMappings, Berth.UsernsAuto) and chosen under the exclusive
 * store lock by idmap_allocate_auto(), which reads every container's record
 * first (an unreadable one fails the allocation: it may hold a range).  The
 * range is free again when the record is removed. */
#ifndef BERTH_IDMAP_H
#define BERTH_IDMAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/error.h"
#include "berth/store.h"

#define IDMAP_MAX 64            /* ranges in one mapping (the kernel takes 340) */
#define IDMAP_AUTO_SIZE 65536u  /* --userns=auto without size= */
#define IDMAP_SUBID_NAME "berth" /* whose /etc/subuid entries root's containers use */
#define IDMAP_SUBUID_PATH "/etc/subuid"
#define IDMAP_SUBGID_PATH "/etc/subgid"
#define IDMAP_CONFIG_PATH "/etc/berth/config.json"

struct idmap_range {
        uint32_t container, host, size;
};

struct idmap {
        struct idmap_range r[IDMAP_MAX];
        size_t n;
};

/* "CONTAINER:HOST:SIZE" (decimal, SIZE > 0, no overflow past 2^32-1). */
int idmap_range_parse(const char *text, struct idmap_range *out, berth_error_t *err);
/* Append a range; one that overlaps another on either side is refused. */
int idmap_add(struct idmap *m, const struct idmap_range *r, const char *what, berth_error_t *err);
/* The host id of container id `id`; false when it is not mapped. */
bool idmap_to_host(const struct idmap *m, uint32_t id, uint32_t *host);
/* The other way: the container id of host id `host`. */
bool idmap_to_container(const struct idmap *m, uint32_t host, uint32_t *id);
/* "C:H:S" strings, as Podman's inspect shows them; and back (strict). */
json_t *idmap_to_json(const struct idmap *m);
int idmap_from_json(json_t *arr, struct idmap *m, berth_error_t *err);
/* The text written to /proc/PID/uid_map. */
char *idmap_proc_text(const struct idmap *m);

/* The subordinate ranges of `name` (or of the numeric `uid` when it is not
 * (uid_t) -1) in the content of /etc/subuid or /etc/subgid: "NAME:START:COUNT"
 * lines, '#' comments.  A malformed line for that name is an error (with its
 * line number); others' lines are not looked at. *n == 0: none. */
int idmap_subid_parse(const char *content, const char *name, uid_t uid, struct idmap_range *out, size_t max,
                      size_t *n, berth_error_t *err);
/* The same, read from path; a missing file has no ranges. */
int idmap_subid_read(const char *path, const char *name, uid_t uid, struct idmap_range *out, size_t max, size_t *n,
                     berth_error_t *err);

/* First fit: a host range of `size` ids inside one of avail (their host and
 * size), overlapping none of taken. */
int idmap_allocate(const struct idmap_range *avail, size_t navail, const struct idmap_range *taken,
                   size_t ntaken, uint32_t size, uint32_t *host_start, berth_error_t *err);

/* `--userns` modes: host (""), auto[:size=N] (root's: a range of the
 * berth entries of /etc/subuid), keep-id[:uid=N,gid=N] and nomap (a user's:
 * a namespace nested in berth's own, see idmap_nested()). */
enum userns_kind { USERNS_HOST, USERNS_AUTO, USERNS_KEEP_ID, USERNS_NOMAP };
struct idmap_userns {
        enum userns_kind kind;
        uint32_t size;          /* auto's (IDMAP_AUTO_SIZE by default) */
        uint32_t uid, gid;      /* keep-id's, when has_uid / has_gid */
        bool has_uid, has_gid;
};
int idmap_userns_parse(const char *mode, struct idmap_userns *u, berth_error_t *err);
/* A user's keep-id (the user as container id inner) or nomap mapping, from
 * container ids to the ids of berth's namespace of the user, whose ranges
 * are own (id 0 the user, then the subordinate ids).  No subordinate ids:
 * an error. */
int idmap_nested(enum userns_kind kind, const struct idmap *own, uint32_t inner, struct idmap *out,
                 berth_error_t *err);

/* /etc/berth/config.json's "userns-remap" ("default": the berth entries of
 * /etc/subuid; a user name: that name's): *name NULL when unset or "". */
int idmap_remap_config(const char *path, char **name, berth_error_t *err);

/* Under the exclusive store lock (held by the caller): a free uid and gid
 * range of size ids from name's entries in /etc/subuid and /etc/subgid,
 * mapped from container id 0. */
int idmap_allocate_auto(struct berth_store *s, const char *name, uint32_t size, struct idmap *uids,
                        struct idmap *gids, berth_error_t *err);

/* The mappings of a container's config.json (HostConfig.IDMappings): false
 * for a container without a user namespace; an unreadable mapping is an
 * error. */
int idmap_from_config(json_t *cfg, struct idmap *uids, struct idmap *gids, bool *has, berth_error_t *err);

#endif
