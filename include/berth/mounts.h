/* berth — container mounts as data: an ordered list of operations applied
 * inside the container's mount namespace (see src/runtime/mounts.c for the
 * tables). */
#ifndef BERTH_MOUNTS_H
#define BERTH_MOUNTS_H

#include <stddef.h>
#include <sys/types.h>

#include "berth/error.h"

enum mount_op_kind {
        OP_PROC,           /* mount proc */
        OP_TMPFS,          /* mount a tmpfs */
        OP_MOUNT,          /* mount src of fstype on dst */
        OP_MOUNT_OPTIONAL, /* same, failure ignored (cgroup2 on old hosts) */
        OP_MKNOD,          /* the char device src names, recreated at dst */
        OP_DEVICE,         /* the char or block node src (--device), recreated at dst with
                              its mode and owner; bound from the host where mknod is refused */
        OP_SYMLINK,        /* symlink dst -> src */
        OP_BIND,           /* bind mount host path src on dst */
        OP_BIND_RO,        /* same, read-only */
        OP_MASK,           /* hide dst: /dev/null over a file, ro tmpfs over a dir */
        OP_READONLY,       /* remount dst read-only */
        OP_SECRET,         /* a read-only file at dst holding content, owned uid:gid
                              with mode, on a tmpfs mounted at src (a host directory,
                              but the mount is the container's mount namespace's
                              only, so the value is never on a disk nor seen by
                              the host) */
};

struct mount_op {
        enum mount_op_kind kind;
        const char *src;
        const char *dst; /* absolute inside the container */
        const char *fstype;
        unsigned long flags;
        const char *data;
        /* OP_SECRET */
        const char *content;
        size_t content_len;
        uid_t uid;
        gid_t gid;
        mode_t mode;
};

const struct mount_op *mounts_base(size_t *n);
const struct mount_op *mounts_confine(size_t *n);
int mounts_apply(const struct mount_op *ops, size_t n, const char *root, berth_error_t *err);

#endif
