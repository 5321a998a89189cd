/* berth — -v and --mount specs: pure parsing, no I/O (src/store/mount-spec.c).
 * What a spec asks for; volume.h makes the volumes and the mounts. */
#ifndef BERTH_MOUNT_SPEC_H
#define BERTH_MOUNT_SPEC_H

#include <stdbool.h>

#include "berth/error.h"

enum mount_spec_kind {
        MOUNT_SPEC_BIND,   /* host path */
        MOUNT_SPEC_VOLUME, /* named volume (source is the name) */
        MOUNT_SPEC_ANON,   /* anonymous volume (no source) */
        MOUNT_SPEC_TMPFS,  /* tmpfs (source: mount options or NULL) */
};

struct mount_spec {
        enum mount_spec_kind kind;
        char *source; /* host path, volume name, tmpfs options, or NULL */
        char *target; /* absolute path in the container */
        bool readonly;
        bool nocopy;  /* volume-nocopy / :nocopy: no copy-up of image content */
        bool create_host_dir; /* -v HOST:..: a missing host dir is made (Docker's -v, not --mount) */
        bool idmap;   /* -v HOST:..:idmap (Podman's): idmapped to the container's user namespace */
};

void mount_spec_clear(struct mount_spec *m);
/* -v / --volume: [SOURCE:]TARGET[:MODE], MODE a comma list of ro, rw, z, Z,
 * nocopy, idmap and propagation words.  SOURCE absolute: bind; else a volume name;
 * none: an anonymous volume. */
int mount_spec_parse_volume(const char *spec, struct mount_spec *out, berth_error_t *err);
/* --mount type=bind|volume|tmpfs,source=,target=,readonly[=BOOL],... */
int mount_spec_parse_mount(const char *spec, struct mount_spec *out, berth_error_t *err);
/* The same specs with a relative bind source made absolute against BASE (the
 * working directory when NULL), as Docker's CLI does before it sends them:
 * for -v a source starting with "." ("./data", "..", "."), for --mount any
 * type=bind source. Other specs come back unchanged (a copy). */
char *mount_spec_volume_absolute(const char *spec, const char *base);
char *mount_spec_mount_absolute(const char *spec, const char *base);

#endif
