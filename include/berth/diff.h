/* berth — `diff`: the changes of a container, its overlayfs upper dir
 * against the merged layers of its image, as `docker diff` lists them.
 * commit.c makes a layer of them.  (src/container/diff.c) */
#ifndef BERTH_DIFF_H
#define BERTH_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/image.h"
#include "berth/store.h"

struct fs_change {
        char kind;   /* 'A' added, 'C' changed, 'D' deleted (as `docker diff`) */
        char *path;  /* "/etc/passwd" */
        bool opaque; /* a directory whose lower contents are all hidden */
};
void fs_changes_free(struct fs_change *v, size_t n);

/* The changes of container c (its upper dir) against img, its image, sorted
 * by path; parents of changes show as 'C' like Docker.  Mount points berth
 * makes (/etc/hosts, /proc, -v targets...) are not changes. */
int container_changes(struct berth_store *s, struct berth_container *c, struct berth_image *img,
                      struct fs_change **out, size_t *n, berth_error_t *err);

#endif
