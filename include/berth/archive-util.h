/* berth — cleanup attributes for libarchive handles, shared by every file
 * that reads or writes tar streams (the store's layer, image, archive,
 * commit and export code, and build).  The archive modules' own helpers are
 * in archive-internal.h. */
#ifndef BERTH_ARCHIVE_UTIL_H
#define BERTH_ARCHIVE_UTIL_H

#include <archive.h>
#include <archive_entry.h>

static inline void archive_read_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}
static inline void archive_write_freep(struct archive **a)
{
        if (*a)
                archive_write_free(*a);
}
static inline void archive_entry_freep(struct archive_entry **e)
{
        if (*e)
                archive_entry_free(*e);
}
#define cleanup_archive_read __attribute__((cleanup(archive_read_freep)))
#define cleanup_archive_write __attribute__((cleanup(archive_write_freep)))
#define cleanup_archive_entry __attribute__((cleanup(archive_entry_freep)))

/* Remove trusted.overlay.* xattrs from an entry.  overlayfs reads them
 * (opaque, redirect, metacopy...) from layer dirs: only berth sets them, from
 * the OCI whiteout markers; they never come from or go into a tar. */
void archive_entry_drop_overlay_xattrs(struct archive_entry *e);

#endif
