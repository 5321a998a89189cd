/* berth — libarchive, loaded on first use, and cleanup attributes for its
 * handles, shared by every file that reads or writes tar streams (the
 * store's layer, image, archive, commit and export code, build and cp).
 * The archive modules' own helpers are in archive-internal.h.
 *
 * berth is not linked with libarchive (and the compression libraries,
 * libxml2, ICU and libstdc++ behind it): archive_lib_load() loads it and
 * sets the sym_archive_*() pointers below, one per function berth calls,
 * typed from <archive.h>.  Call it before creating a handle, and before a
 * process enters a container's or an image's filesystem (chroot, setns)
 * to read or write tar streams there: the library must come from the
 * host's /usr, never from the container's. */
#ifndef BERTH_ARCHIVE_UTIL_H
#define BERTH_ARCHIVE_UTIL_H

#include <archive.h>
#include <archive_entry.h>

#include "berth/dlopen-util.h"

/* The soname berth was built against. */
#define ARCHIVE_SONAME "libarchive.so.13"

/* Load libarchive once per process; "libarchive.so.13 is not available:
 * ..." when it cannot be. */
int archive_lib_load(berth_error_t *err);

extern DLSYM_PROTOTYPE(archive_entry_clear);
extern DLSYM_PROTOTYPE(archive_entry_copy_pathname);
extern DLSYM_PROTOTYPE(archive_entry_copy_sourcepath);
extern DLSYM_PROTOTYPE(archive_entry_filetype);
extern DLSYM_PROTOTYPE(archive_entry_free);
extern DLSYM_PROTOTYPE(archive_entry_gid);
extern DLSYM_PROTOTYPE(archive_entry_hardlink);
extern DLSYM_PROTOTYPE(archive_entry_linkify);
extern DLSYM_PROTOTYPE(archive_entry_linkresolver_free);
extern DLSYM_PROTOTYPE(archive_entry_linkresolver_new);
extern DLSYM_PROTOTYPE(archive_entry_linkresolver_set_strategy);
extern DLSYM_PROTOTYPE(archive_entry_new);
extern DLSYM_PROTOTYPE(archive_entry_pathname);
extern DLSYM_PROTOTYPE(archive_entry_set_filetype);
extern DLSYM_PROTOTYPE(archive_entry_set_gid);
extern DLSYM_PROTOTYPE(archive_entry_set_hardlink);
extern DLSYM_PROTOTYPE(archive_entry_set_mtime);
extern DLSYM_PROTOTYPE(archive_entry_set_pathname);
extern DLSYM_PROTOTYPE(archive_entry_set_perm);
extern DLSYM_PROTOTYPE(archive_entry_set_size);
extern DLSYM_PROTOTYPE(archive_entry_set_uid);
extern DLSYM_PROTOTYPE(archive_entry_size);
extern DLSYM_PROTOTYPE(archive_entry_size_is_set);
extern DLSYM_PROTOTYPE(archive_entry_sourcepath);
extern DLSYM_PROTOTYPE(archive_entry_symlink);
extern DLSYM_PROTOTYPE(archive_entry_uid);
extern DLSYM_PROTOTYPE(archive_entry_xattr_add_entry);
extern DLSYM_PROTOTYPE(archive_entry_xattr_clear);
extern DLSYM_PROTOTYPE(archive_entry_xattr_count);
extern DLSYM_PROTOTYPE(archive_entry_xattr_next);
extern DLSYM_PROTOTYPE(archive_entry_xattr_reset);
extern DLSYM_PROTOTYPE(archive_errno);
extern DLSYM_PROTOTYPE(archive_error_string);
extern DLSYM_PROTOTYPE(archive_filter_bytes);
extern DLSYM_PROTOTYPE(archive_format);
extern DLSYM_PROTOTYPE(archive_read_data);
extern DLSYM_PROTOTYPE(archive_read_data_block);
extern DLSYM_PROTOTYPE(archive_read_disk_descend);
extern DLSYM_PROTOTYPE(archive_read_disk_entry_from_file);
extern DLSYM_PROTOTYPE(archive_read_disk_new);
extern DLSYM_PROTOTYPE(archive_read_disk_open);
extern DLSYM_PROTOTYPE(archive_read_disk_set_behavior);
extern DLSYM_PROTOTYPE(archive_read_disk_set_symlink_hybrid);
extern DLSYM_PROTOTYPE(archive_read_disk_set_symlink_physical);
extern DLSYM_PROTOTYPE(archive_read_free);
extern DLSYM_PROTOTYPE(archive_read_new);
extern DLSYM_PROTOTYPE(archive_read_next_header);
extern DLSYM_PROTOTYPE(archive_read_next_header2);
extern DLSYM_PROTOTYPE(archive_read_open);
extern DLSYM_PROTOTYPE(archive_read_open_fd);
extern DLSYM_PROTOTYPE(archive_read_open_filename);
extern DLSYM_PROTOTYPE(archive_read_open_memory);
extern DLSYM_PROTOTYPE(archive_read_support_filter_all);
extern DLSYM_PROTOTYPE(archive_read_support_filter_bzip2);
extern DLSYM_PROTOTYPE(archive_read_support_filter_gzip);
extern DLSYM_PROTOTYPE(archive_read_support_filter_xz);
extern DLSYM_PROTOTYPE(archive_read_support_format_gnutar);
extern DLSYM_PROTOTYPE(archive_read_support_format_raw);
extern DLSYM_PROTOTYPE(archive_read_support_format_tar);
extern DLSYM_PROTOTYPE(archive_set_error);
extern DLSYM_PROTOTYPE(archive_write_close);
extern DLSYM_PROTOTYPE(archive_write_data);
extern DLSYM_PROTOTYPE(archive_write_data_block);
extern DLSYM_PROTOTYPE(archive_write_disk_new);
extern DLSYM_PROTOTYPE(archive_write_disk_set_options);
extern DLSYM_PROTOTYPE(archive_write_finish_entry);
extern DLSYM_PROTOTYPE(archive_write_free);
extern DLSYM_PROTOTYPE(archive_write_header);
extern DLSYM_PROTOTYPE(archive_write_new);
extern DLSYM_PROTOTYPE(archive_write_open);
extern DLSYM_PROTOTYPE(archive_write_open_fd);
extern DLSYM_PROTOTYPE(archive_write_set_bytes_in_last_block);
extern DLSYM_PROTOTYPE(archive_write_set_format_pax_restricted);

static inline void archive_read_freep(struct archive **a)
{
        if (*a)
                sym_archive_read_free(*a);
}
static inline void archive_write_freep(struct archive **a)
{
        if (*a)
                sym_archive_write_free(*a);
}
static inline void archive_entry_freep(struct archive_entry **e)
{
        if (*e)
                sym_archive_entry_free(*e);
}
#define cleanup_archive_read __attribute__((cleanup(archive_read_freep)))
#define cleanup_archive_write __attribute__((cleanup(archive_write_freep)))
#define cleanup_archive_entry __attribute__((cleanup(archive_entry_freep)))

/* Remove trusted.overlay.* xattrs from an entry.  overlayfs reads them
 * (opaque, redirect, metacopy...) from layer dirs: only berth sets them, from
 * the OCI whiteout markers; they never come from or go into a tar. */
void archive_entry_drop_overlay_xattrs(struct archive_entry *e);
/* A file of a container with a user namespace (its upper dir holds its
 * mapped host ids): the entry gets the ids the container sees.  An id
 * outside the maps (an image layer's own) is kept. */
struct idmap;
void archive_entry_unmap_ids(struct archive_entry *e, const struct idmap *uids, const struct idmap *gids);

#endif
