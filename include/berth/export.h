/* berth — `export`: a container's merged filesystem (image layers + upper
 * dir, mounted read-only in a private mount namespace of a child) as a tar.
 * (src/container/export.c) */
#ifndef BERTH_EXPORT_H
#define BERTH_EXPORT_H

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

int container_export(struct berth_store *s, struct berth_container *c, int fd, berth_error_t *err);

#endif
