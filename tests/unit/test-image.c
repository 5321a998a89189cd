/* Unit tests: image references, blobs, layer unpack (whiteouts, links,
 * xattrs, refusals), import/lookup/tag/rmi over a store in a temp dir.
 * Layer tests need root (chown, mknod, trusted.* xattrs). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <check.h>

#include "berth/blob.h"
#include "berth/image-import.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/layer.h"
#include "berth/store.h"
#include "berth/util.h"

#include "store-fixture.h"
#include "check-main.h"

static void assert_store_empty(void)
{
        ck_assert_uint_eq(count_entries("blobs/sha256"), 0);
        ck_assert_uint_eq(count_entries("layers"), 0);
        ck_assert_uint_eq(count_entries("l"), 0);
        ck_assert_uint_eq(count_entries("tmp"), 0);
}

/* ---- tar builder ------------------------------------------------------------------ */
enum { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK, T_CHAR };
struct tentry {
        int type;
        const char *path;
        const char *data; /* file content, or link target */
        mode_t mode;
        uid_t uid;
        const void *xattr_value; /* security.capability unless xattr_name */
        size_t xattr_len;
        const char *xattr_name;
};

/* filter: ARCHIVE_FILTER_NONE, _GZIP, _ZSTD, _XZ, _BZIP2.  truncate_to > 0
 * cuts the result. */
static char *make_tar(const char *name, int filter, const struct tentry *ents, size_t n, off_t truncate_to)
{
        char *path = xasprintf("%s/%s", tdir, name);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (filter != ARCHIVE_FILTER_NONE)
                ck_assert_int_eq(archive_write_add_filter(a, filter), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, ents[i].path);
                archive_entry_set_uid(e, ents[i].uid);
                archive_entry_set_gid(e, ents[i].uid);
                archive_entry_set_mtime(e, 1000000000, 0);
                switch (ents[i].type) {
                case T_FILE:
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, ents[i].mode ? ents[i].mode : 0644);
                        archive_entry_set_size(e, ents[i].data ? strlen(ents[i].data) : 0);
                        break;
                case T_DIR:
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, ents[i].mode ? ents[i].mode : 0755);
                        break;
                case T_SYMLINK:
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, ents[i].data);
                        break;
                case T_HARDLINK:
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, ents[i].data);
                        archive_entry_set_size(e, 0);
                        break;
                case T_CHAR:
                        archive_entry_set_filetype(e, AE_IFCHR);
                        archive_entry_set_perm(e, 0600);
                        archive_entry_set_rdev(e, makedev(1, 3));
                        break;
                }
                if (ents[i].xattr_value)
                        archive_entry_xattr_add_entry(e, ents[i].xattr_name ? ents[i].xattr_name
                                                                            : "security.capability",
                                                      ents[i].xattr_value, ents[i].xattr_len);
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                if (ents[i].type == T_FILE && ents[i].data)
                        archive_write_data(a, ents[i].data, strlen(ents[i].data));
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        if (truncate_to > 0)
                ck_assert_int_eq(truncate(path, truncate_to), 0);
        return path;
}

static char *sha256_file(const char *path)
{
        cleanup_free char *data = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file(path, &data, &len, NULL), 0);
        return digest_of_data(data, len);
}

static char *layer_path(const char *diff_id, const char *rel)
{
        return store_path(&st, "layers/%s/diff/%s", diff_id + 7, rel);
}

/* ---- references ------------------------------------------------------------------- */
START_TEST(test_ref_default_registry)
{
        static const char *const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        static const struct {
                const char *ref, *registry, *want;
        } cases[] = {
                { "busybox", "reg:5000", "reg:5000/busybox:latest" },
                { "library/busybox:1", "reg:5000", "reg:5000/library/busybox:1" },
                { "team/app:2", "quay.io", "quay.io/team/app:2" },
                { "docker.io/busybox", "reg:5000", NULL },
                { "index.docker.io/library/busybox", "reg:5000", NULL },
                { "quay.io/team/app", "reg:5000", NULL },
                { "localhost/app", "reg:5000", NULL },
                { "busybox", NULL, NULL },
                { "busybox", "docker.io", NULL },
                { "Not A Ref", "reg:5000", NULL },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                cleanup_free char *got = image_ref_with_default_registry(cases[i].ref, cases[i].registry);
                ck_assert_msg(cases[i].want ? got && streq(got, cases[i].want) : !got, "%s on %s: %s", cases[i].ref,
                              cases[i].registry ? cases[i].registry : "(none)", got ? got : "(null)");
        }
        cleanup_free char *by_digest = xasprintf("team/app@%s", digest);
        cleanup_free char *want = xasprintf("reg:5000/team/app@%s", digest);
        cleanup_free char *got = image_ref_with_default_registry(by_digest, "reg:5000");
        ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_ref_table)
{
        static const struct {
                const char *in, *full, *familiar;
        } ok[] = {
                { "busybox", "docker.io/library/busybox:latest", "busybox:latest" },
                { "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36" },
                { "library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
                { "docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest" },
                { "index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
                { "docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
                { "user/app:v1", "docker.io/user/app:v1", "user/app:v1" },
                { "localhost/app", "localhost/app:latest", "localhost/app:latest" },
                { "localhost:5000/x:1", "localhost:5000/x:1", "localhost:5000/x:1" },
                { "quay.io/a/b/c:tag_1.0-rc", "quay.io/a/b/c:tag_1.0-rc", "quay.io/a/b/c:tag_1.0-rc" },
                { "my-registry:5000/team/app", "my-registry:5000/team/app:latest", "my-registry:5000/team/app:latest" },
                { "a__b/c-d--e.f_g", "docker.io/a__b/c-d--e.f_g:latest", "a__b/c-d--e.f_g:latest" },
                { "[::1]:5000/app:v", "[::1]:5000/app:v", "[::1]:5000/app:v" },
                { "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
                { "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "docker.io/library/busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                struct image_ref r;
                berth_error_t err = NULL;
                int rc = image_ref_parse(ok[i].in, &r, &err);
                ck_assert_msg(rc == 0, "%s: %s", ok[i].in, err ? err->msg : "");
                cleanup_free char *full = image_ref_full(&r);
                cleanup_free char *fam = image_ref_familiar(&r);
                ck_assert_str_eq(full, ok[i].full);
                ck_assert_str_eq(fam, ok[i].familiar);
                image_ref_free(&r);
        }
        struct image_ref r;
        ck_assert_int_eq(image_ref_parse("busybox", &r, NULL), 0);
        cleanup_free char *repo = image_ref_familiar_repo(&r);
        ck_assert_str_eq(repo, "busybox");
        ck_assert_str_eq(r.domain, "docker.io");
        ck_assert_str_eq(r.path, "library/busybox");
        ck_assert_str_eq(r.tag, "latest");
        ck_assert_ptr_null(r.digest);
        image_ref_free(&r);

        static const char *const bad[] = {
                "",
                "BusyBox",
                "busybox:",
                "busybox:.bad",
                "busybox:-bad",
                "busybox:a/b",
                "busy box",
                "a//b",
                "-busybox",
                "busybox-",
                "a___b",
                "localhost:port/x",
                "busybox@sha256:abc",
                "busybox@md5:0123456789abcdef0123456789abcdef",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                berth_error_t err = NULL;
                ck_assert_msg(image_ref_parse(bad[i], &r, &err) < 0, "accepted `%s`", bad[i]);
                ck_assert_ptr_nonnull(err);
                ck_assert_msg(strstr(err->msg, "invalid"), "%s", err->msg);
                berth_error_free(&err);
        }
        berth_error_t err = NULL;
        char longtag[8 + 130] = "busybox:";
        memset(longtag + 8, 'x', 128);
        ck_assert_int_eq(image_ref_parse(longtag, &r, &err), 0); /* 128 is the limit */
        image_ref_free(&r);
        longtag[8 + 128] = 'x';
        ck_assert_int_lt(image_ref_parse(longtag, &r, &err), 0);
        berth_error_free(&err);
        /* The 255 characters are of the normalised name, as Docker: what
         * parses has a full form that parses (found by fuzzing). */
        char longname[240] = { 0 };
        memset(longname, 'a', 237); /* "docker.io/library/" + 237 = 255 */
        ck_assert_int_eq(image_ref_parse(longname, &r, &err), 0);
        image_ref_free(&r);
        longname[237] = 'a';
        ck_assert_int_lt(image_ref_parse(longname, &r, &err), 0);
        ck_assert_msg(strstr(err->msg, "must not be more than 255"), "%s", err->msg);
        berth_error_free(&err);
        ck_assert_int_lt(image_ref_parse("Upper/Case", &r, &err), 0);
        ck_assert_msg(strstr(err->msg, "must be lowercase") || strstr(err->msg, "invalid"), "%s", err->msg);
        berth_error_free(&err);
        ck_assert_int_lt(image_ref_parse("busybox/Upper", &r, &err), 0);
        ck_assert_msg(strstr(err->msg, "must be lowercase"), "%s", err->msg);
        berth_error_free(&err);
}
END_TEST

/* ---- blobs ------------------------------------------------------------------------ */
START_TEST(test_blob_put)
{
        berth_error_t err = NULL;
        cleanup_free char *d1 = NULL;
        ck_assert_int_eq(store_blob_put_data(&st, "hello", 5, &d1, &err), 0);
        ck_assert_str_eq(d1, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        ck_assert(store_blob_exists(&st, d1));
        cleanup_free char *p = NULL;
        ck_assert_int_eq(store_blob_path(&st, d1, &p, &err), 0);
        cleanup_free char *data = NULL;
        ck_assert_int_eq(store_blob_read(&st, d1, &data, NULL, &err), 0);
        ck_assert_str_eq(data, "hello");

        cleanup_free char *src = xasprintf("%s/src", tdir);
        ck_assert_int_eq(write_file_atomic(src, "world", 5, 0644, &err), 0);
        cleanup_free char *d2 = NULL;
        ck_assert_int_eq(store_blob_put_file(&st, src,
                                             "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7",
                                             &d2, &err),
                         0);
        ck_assert_str_eq(d2, "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7");
        /* idempotent */
        cleanup_free char *d3 = NULL;
        ck_assert_int_eq(store_blob_put_file(&st, src, NULL, &d3, &err), 0);
        ck_assert_str_eq(d2, d3);
        ck_assert_uint_eq(count_entries("blobs/sha256"), 2);

        /* wrong digest: refused, nothing stored, nothing left in tmp */
        const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        ck_assert_int_lt(store_blob_put_file(&st, src, wrong, NULL, &err), 0);
        ck_assert_msg(strstr(err->msg, "digest mismatch"), "%s", err->msg);
        berth_error_free(&err);
        ck_assert(!store_blob_exists(&st, wrong));
        ck_assert_uint_eq(count_entries("blobs/sha256"), 2);
        ck_assert_uint_eq(count_entries("tmp"), 0);
        ck_assert_int_lt(store_blob_put_file(&st, src, "sha256:xyz", NULL, &err), 0);
        berth_error_free(&err);
        ck_assert_int_eq(store_blob_path(&st, wrong, &p, &err), -ENOENT);
        berth_error_free(&err);

        /* a blob corrupted on disk is noticed when read */
        cleanup_free char *bp = store_path(&st, "blobs/sha256/%s", d1 + 7);
        ck_assert_int_eq(write_file_atomic(bp, "HELLO", 5, 0644, &err), 0);
        cleanup_free char *data2 = NULL;
        ck_assert_int_lt(store_blob_read(&st, d1, &data2, NULL, &err), 0);
        ck_assert_msg(strstr(err->msg, "corrupt"), "%s", err->msg);
        berth_error_free(&err);
}
END_TEST

/* ---- layers ------------------------------------------------------------------------- */
/* VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_BIND_SERVICE */
static const unsigned char cap_net_bind[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
                                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

START_TEST(test_layer_unpack_basic)
{
        const struct tentry ents[] = {
                { T_DIR, "./", NULL, 0755, 0, NULL, 0 },
                { T_DIR, "./etc/", NULL, 0750, 0, NULL, 0 },
                { T_FILE, "./etc/hello", "hello world\n", 0640, 1000, NULL, 0 },
                { T_HARDLINK, "./etc/hello-link", "./etc/hello", 0, 1000, NULL, 0 },
                { T_SYMLINK, "./etc/sym", "/etc/hello", 0, 0, NULL, 0 },
                { T_DIR, "./bin", NULL, 0755, 0, NULL, 0 },
                { T_FILE, "./bin/suid", "#!/bin/sh\n", 04755, 0, NULL, 0 },
                { T_FILE, "./bin/cap", "binary", 0755, 0, cap_net_bind, sizeof(cap_net_bind) },
                { T_CHAR, "./dev-null", NULL, 0, 0, NULL, 0 },
        };
        cleanup_free char *tar = make_tar("basic.tar", ARCHIVE_FILTER_NONE, ents, ARRAY_SIZE(ents), 0);
        cleanup_free char *want = sha256_file(tar);
        berth_error_t err = NULL;
        cleanup_free char *diff_id = NULL;
        long long size = 0;
        int r = store_layer_unpack(&st, tar, &diff_id, &size, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        ck_assert_str_eq(diff_id, want);
        ck_assert_int_eq(size, (long long) (strlen("hello world\n") + strlen("#!/bin/sh\n") + strlen("binary")));
        ck_assert(store_layer_exists(&st, diff_id));

        struct stat a, b;
        cleanup_free char *hello = layer_path(diff_id, "etc/hello");
        cleanup_free char *hlink = layer_path(diff_id, "etc/hello-link");
        ck_assert_int_eq(lstat(hello, &a), 0);
        ck_assert_int_eq(lstat(hlink, &b), 0);
        ck_assert_uint_eq(a.st_ino, b.st_ino);
        ck_assert_uint_eq(a.st_nlink, 2);
        ck_assert_uint_eq(a.st_uid, 1000);
        ck_assert_uint_eq(a.st_mode & 07777, 0640);
        ck_assert_int_eq(a.st_mtime, 1000000000);
        cleanup_free char *etc = layer_path(diff_id, "etc");
        ck_assert_int_eq(lstat(etc, &a), 0);
        ck_assert_uint_eq(a.st_mode & 07777, 0750);
        ck_assert_int_eq(a.st_mtime, 1000000000);

        cleanup_free char *sym = layer_path(diff_id, "etc/sym");
        char buf[64] = {};
        ck_assert_int_eq(readlink(sym, buf, sizeof(buf) - 1), (ssize_t) strlen("/etc/hello"));
        ck_assert_str_eq(buf, "/etc/hello");

        cleanup_free char *suid = layer_path(diff_id, "bin/suid");
        ck_assert_int_eq(lstat(suid, &a), 0);
        ck_assert_uint_eq(a.st_mode & 07777, 04755);

        cleanup_free char *cap = layer_path(diff_id, "bin/cap");
        unsigned char val[64];
        ssize_t n = lgetxattr(cap, "security.capability", val, sizeof(val));
        ck_assert_int_eq(n, (ssize_t) sizeof(cap_net_bind));
        ck_assert_int_eq(memcmp(val, cap_net_bind, sizeof(cap_net_bind)), 0);

        cleanup_free char *dev = layer_path(diff_id, "dev-null");
        ck_assert_int_eq(lstat(dev, &a), 0);
        ck_assert(S_ISCHR(a.st_mode));
        ck_assert_uint_eq(major(a.st_rdev), 1);

        /* link + l/SHORT symlink */
        cleanup_free char *link = NULL;
        long long size2 = 0;
        ck_assert_int_eq(store_layer_info(&st, diff_id, &link, &size2, &err), 0);
        ck_assert_int_eq(size2, size);
        ck_assert(startswith(link, "l/"));
        ck_assert_uint_le(strlen(link), 2 + 26);
        cleanup_free char *lp = store_path(&st, "%s/etc/hello", link);
        ck_assert_int_eq(access(lp, F_OK), 0);

        /* idempotent: again, and the same content compressed */
        cleanup_free char *again = NULL;
        ck_assert_int_eq(store_layer_unpack(&st, tar, &again, NULL, &err), 0);
        ck_assert_str_eq(again, diff_id);
        static const int filters[] = { ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD, ARCHIVE_FILTER_XZ,
                                       ARCHIVE_FILTER_BZIP2 };
        for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
                cleanup_free char *name = xasprintf("basic-%zu.tar.x", i);
                cleanup_free char *ctar = make_tar(name, filters[i], ents, ARRAY_SIZE(ents), 0);
                cleanup_free char *cdiff = NULL;
                r = store_layer_unpack(&st, ctar, &cdiff, NULL, &err);
                ck_assert_msg(r == 0, "filter %d: %s", filters[i], err ? err->msg : "");
                ck_assert_str_eq(cdiff, diff_id);
        }
        ck_assert_uint_eq(count_entries("layers"), 1);
        ck_assert_uint_eq(count_entries("l"), 1);
        ck_assert_uint_eq(count_entries("tmp"), 0);

        /* the expect variant: right digest returns at once, a wrong one is refused */
        ck_assert_int_eq(store_layer_unpack_expect(&st, tar, diff_id, NULL, NULL, &err), 0);
        cleanup_free char *other = make_tar("other.tar", ARCHIVE_FILTER_NONE, ents + 1, 2, 0);
        ck_assert_int_lt(store_layer_unpack_expect(&st, other,
                                                   "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                                                   NULL, NULL, &err),
                         0);
        ck_assert_msg(strstr(err->msg, "mismatch"), "%s", err->msg);
        berth_error_free(&err);
        ck_assert_uint_eq(count_entries("layers"), 1);
        ck_assert_uint_eq(count_entries("tmp"), 0);
}
END_TEST

START_TEST(test_layer_whiteouts)
{
        const struct tentry ents[] = {
                { T_DIR, "etc/", NULL, 0755, 0, NULL, 0 },
                { T_FILE, "etc/.wh.passwd", "", 0644, 0, NULL, 0 },
                { T_DIR, "opt/", NULL, 0755, 0, NULL, 0 },
                { T_FILE, "opt/.wh..wh..opq", "", 0644, 0, NULL, 0 },
                { T_FILE, "opt/new", "n", 0644, 0, NULL, 0 },
                { T_FILE, "var/lib/.wh.gone", "", 0644, 0, NULL, 0 }, /* parents not in the tar */
                { T_FILE, ".wh..wh.plnk", "", 0644, 0, NULL, 0 },     /* aufs metadata: dropped */
                /* overlay xattrs from the tar itself are not trusted */
                { T_DIR, "forged", NULL, 0755, 0, "y", 1, "trusted.overlay.opaque" },
                { T_FILE, "forged/f", "x", 0644, 0, "v", 1, "user.keep" },
        };
        cleanup_free char *tar = make_tar("wh.tar", ARCHIVE_FILTER_NONE, ents, ARRAY_SIZE(ents), 0);
        berth_error_t err = NULL;
        cleanup_free char *diff_id = NULL;
        int r = store_layer_unpack(&st, tar, &diff_id, NULL, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        struct stat s;
        cleanup_free char *wh = layer_path(diff_id, "etc/passwd");
        ck_assert_int_eq(lstat(wh, &s), 0);
        ck_assert(S_ISCHR(s.st_mode));
        ck_assert_uint_eq(s.st_rdev, makedev(0, 0));
        cleanup_free char *whname = layer_path(diff_id, "etc/.wh.passwd");
        ck_assert_int_eq(lstat(whname, &s), -1);
        cleanup_free char *gone = layer_path(diff_id, "var/lib/gone");
        ck_assert_int_eq(lstat(gone, &s), 0);
        ck_assert(S_ISCHR(s.st_mode));
        cleanup_free char *opt = layer_path(diff_id, "opt");
        char v[8] = {};
        ck_assert_int_eq(lgetxattr(opt, "trusted.overlay.opaque", v, sizeof(v)), 1);
        ck_assert_str_eq(v, "y");
        cleanup_free char *marker = layer_path(diff_id, "opt/.wh..wh..opq");
        ck_assert_int_eq(lstat(marker, &s), -1);
        cleanup_free char *nf = layer_path(diff_id, "opt/new");
        ck_assert_int_eq(lstat(nf, &s), 0);
        cleanup_free char *plnk = layer_path(diff_id, ".wh..wh.plnk");
        ck_assert_int_eq(lstat(plnk, &s), -1);
        cleanup_free char *forged = layer_path(diff_id, "forged");
        ck_assert_int_eq(lgetxattr(forged, "trusted.overlay.opaque", v, sizeof(v)), -1);
        cleanup_free char *kept = layer_path(diff_id, "forged/f");
        ck_assert_int_eq(lgetxattr(kept, "user.keep", v, sizeof(v)), 1);
}
END_TEST

static void expect_refused(const char *tar, const char *needle)
{
        berth_error_t err = NULL;
        cleanup_free char *diff_id = NULL;
        int r = store_layer_unpack(&st, tar, &diff_id, NULL, &err);
        ck_assert_msg(r < 0, "%s was accepted", tar);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err->msg, needle), "message `%s` lacks `%s`", err->msg, needle);
        ck_assert_ptr_null(strchr(err->msg, '\n'));
        berth_error_free(&err);
        assert_store_empty();
}

START_TEST(test_layer_refusals)
{
        const struct tentry dotdot[] = {
                { T_FILE, "ok", "x", 0644, 0, NULL, 0 },
                { T_FILE, "../../etc/x", "evil", 0644, 0, NULL, 0 },
        };
        cleanup_free char *t1 = make_tar("dotdot.tar", ARCHIVE_FILTER_NONE, dotdot, ARRAY_SIZE(dotdot), 0);
        expect_refused(t1, "layer entry `../../etc/x` escapes the layer");

        /* a failed unpack leaves the caller's working directory alone (the
         * writer's deferred directory fixups use relative names) */
        cleanup_free char *fixdir = xasprintf("%s/fixdir", tdir);
        ck_assert_int_eq(mkdir(fixdir, 0755), 0);
        struct stat before, after;
        ck_assert_int_eq(stat(fixdir, &before), 0);
        const struct tentry fix[] = {
                { T_DIR, "fixdir", NULL, 0700, 0, NULL, 0 },
                { T_FILE, "../x", "evil", 0644, 0, NULL, 0 },
        };
        cleanup_free char *tfix = make_tar("fix.tar", ARCHIVE_FILTER_NONE, fix, 2, 0);
        cleanup_free char *oldcwd = getcwd(NULL, 0);
        ck_assert_int_eq(chdir(tdir), 0);
        expect_refused(tfix, "escapes the layer");
        cleanup_free char *cwd = getcwd(NULL, 0);
        ck_assert_str_eq(cwd, tdir);
        ck_assert_int_eq(chdir(oldcwd), 0);
        ck_assert_int_eq(stat(fixdir, &after), 0);
        ck_assert_uint_eq(after.st_mode, before.st_mode);
        ck_assert_int_eq(after.st_mtime, before.st_mtime);

        const struct tentry inner_dotdot[] = { { T_FILE, "a/../../x", "evil", 0644, 0, NULL, 0 } };
        cleanup_free char *t1b = make_tar("dotdot2.tar", ARCHIVE_FILTER_NONE, inner_dotdot, 1, 0);
        expect_refused(t1b, "escapes the layer");

        const struct tentry absolute[] = { { T_FILE, "/etc/x", "evil", 0644, 0, NULL, 0 } };
        cleanup_free char *t2 = make_tar("abs.tar", ARCHIVE_FILTER_NONE, absolute, 1, 0);
        expect_refused(t2, "escapes the layer");

        /* a symlink to / and then a file through it */
        cleanup_free char *victim_dir = xasprintf("%s/victim", tdir);
        ck_assert_int_eq(mkdir(victim_dir, 0755), 0);
        cleanup_free char *victim_rel = xasprintf("escape%s/victim/x", tdir);
        const struct tentry through[] = {
                { T_SYMLINK, "escape", "/", 0, 0, NULL, 0 },
                { T_FILE, victim_rel, "evil", 0644, 0, NULL, 0 },
        };
        cleanup_free char *t3 = make_tar("through.tar", ARCHIVE_FILTER_NONE, through, ARRAY_SIZE(through), 0);
        expect_refused(t3, "symlink");
        cleanup_free char *victim = xasprintf("%s/x", victim_dir);
        ck_assert_int_eq(access(victim, F_OK), -1);

        /* a whiteout through a symlink */
        const struct tentry wh_through[] = {
                { T_SYMLINK, "escape", victim_dir, 0, 0, NULL, 0 },
                { T_FILE, "escape/.wh.x", "", 0644, 0, NULL, 0 },
        };
        cleanup_free char *t4 = make_tar("whthrough.tar", ARCHIVE_FILTER_NONE, wh_through, 2, 0);
        expect_refused(t4, "symlink");
        ck_assert_int_eq(access(victim, F_OK), -1);

        /* a hard link through a symlink to a file outside */
        cleanup_free char *secret = xasprintf("%s/secret", victim_dir);
        ck_assert_int_eq(write_file_atomic(secret, "s", 1, 0600, NULL), 0);
        const struct tentry hl_through[] = {
                { T_SYMLINK, "escape", victim_dir, 0, 0, NULL, 0 },
                { T_HARDLINK, "stolen", "escape/secret", 0, 0, NULL, 0 },
        };
        cleanup_free char *t5 = make_tar("hlthrough.tar", ARCHIVE_FILTER_NONE, hl_through, 2, 0);
        expect_refused(t5, "symlink");
        struct stat s;
        ck_assert_int_eq(stat(secret, &s), 0);
        ck_assert_uint_eq(s.st_nlink, 1);

        /* truncated in the middle of a file */
        char big[4096];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        const struct tentry bigf[] = { { T_FILE, "big", big, 0644, 0, NULL, 0 } };
        cleanup_free char *t6 = make_tar("trunc.tar", ARCHIVE_FILTER_NONE, bigf, 1, 2048);
        expect_refused(t6, "not a valid tar archive");
        cleanup_free char *t6z = make_tar("trunc.tar.gz", ARCHIVE_FILTER_GZIP, bigf, 1, 60);
        expect_refused(t6z, "not a valid tar archive");

        /* random bytes, and an empty file */
        cleanup_free char *rnd = xasprintf("%s/random", tdir);
        unsigned char junk[3000];
        ck_assert_int_eq(random_bytes(junk, sizeof(junk)), 0);
        ck_assert_int_eq(write_file_atomic(rnd, junk, sizeof(junk), 0644, NULL), 0);
        expect_refused(rnd, "not a valid tar archive");
        cleanup_free char *empty = xasprintf("%s/empty", tdir);
        ck_assert_int_eq(write_file_atomic(empty, "", 0, 0644, NULL), 0);
        expect_refused(empty, "not a valid tar archive");
}
END_TEST

/* ---- images ------------------------------------------------------------------------ */
static char *import_tar(const char *tar, const char *ref, char *const *changes)
{
        int fd = open(tar, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        berth_error_t err = NULL;
        char *id = NULL;
        int r = image_import(&st, fd, ref, changes, "test import", &id, &err);
        close(fd);
        ck_assert_msg(r == 0, "import: %s", err ? err->msg : "");
        ck_assert(image_digest_valid(id));
        return id;
}

static const struct tentry rootfs[] = {
        { T_DIR, "bin/", NULL, 0755, 0, NULL, 0 },
        { T_FILE, "bin/sh", "#!fake shell\n", 0755, 0, NULL, 0 },
        { T_FILE, "etc/os-release", "ID=test\n", 0644, 0, NULL, 0 },
};

static void collect_line(const char *line, void *ud)
{
        strv_push((char ***) ud, line);
}

START_TEST(test_import_lookup_rmi)
{
        cleanup_free char *tar = make_tar("rootfs.tar.gz", ARCHIVE_FILTER_GZIP, rootfs, ARRAY_SIZE(rootfs), 0);
        char *changes[] = { "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]", "ENV A=b", "WORKDIR /srv", NULL };
        cleanup_free char *id = import_tar(tar, "testimg:1", changes);
        berth_error_t err = NULL;

        struct berth_image *img = NULL;
        const char *refs[] = { "testimg:1", "docker.io/library/testimg:1", "library/testimg:1", id, id + 7 };
        for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
                int r = image_lookup(&st, refs[i], &img, &err);
                ck_assert_msg(r == 0, "%s: %s", refs[i], err ? err->msg : "");
                ck_assert_str_eq(img->id, id);
                image_free(img);
        }
        cleanup_free char *prefix = xstrndup(id + 7, 12);
        cleanup_free char *sprefix = xstrndup(id, 7 + 5);
        ck_assert_int_eq(image_lookup(&st, prefix, &img, &err), 0);
        image_free(img);
        ck_assert_int_eq(image_lookup(&st, sprefix, &img, &err), 0);
        ck_assert_str_eq(img->tags[0], "docker.io/library/testimg:1");
        ck_assert_ptr_null(img->tags[1]);
        ck_assert_uint_eq(strv_length(img->diff_ids), 1);
        ck_assert(startswith(img->layer_links[0], "l/"));
        ck_assert_int_gt(img->size, 0);
        ck_assert_int_gt(img->created_ns, now_ns() - 60LL * 1000000000LL);
        json_t *cfg = json_object_get(img->config, "config");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cfg, "Cmd"), 2)), "echo hi");
        ck_assert_str_eq(json_string_value(json_object_get(cfg, "WorkingDir")), "/srv");
        ck_assert_uint_eq(json_array_size(json_object_get(cfg, "Env")), 2);
        ck_assert_str_eq(json_string_value(json_object_get(img->config, "os")), "linux");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(img->config, "history"), 0),
                                                           "comment")),
                         "test import");
        /* the layer blob is the uncompressed tar: its digest is the diff_id */
        cleanup_free char *mdata = NULL;
        ck_assert_int_eq(store_blob_read(&st, img->manifest_digest, &mdata, NULL, &err), 0);
        json_t *manifest = json_loads(mdata, 0, NULL);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(manifest, "layers"), 0),
                                                           "digest")),
                         img->diff_ids[0]);
        ck_assert_str_eq(json_string_value(json_object_get(manifest, "mediaType")),
                         "application/vnd.oci.image.manifest.v1+json");
        json_decref(manifest);
        image_free(img);

        /* not found */
        ck_assert_int_eq(image_lookup(&st, "nosuch", &img, &err), -ENOENT);
        ck_assert_str_eq(err->msg, "No such image: nosuch:latest");
        berth_error_free(&err);
        ck_assert_int_eq(image_lookup(&st, "sha256:ffffffffffff", &img, &err) < 0, 1);
        ck_assert_msg(strstr(err->msg, "No such image"), "%s", err->msg);
        berth_error_free(&err);

        /* tag, list */
        ck_assert_int_eq(image_tag(&st, "testimg:1", "localhost:5000/other/name:v2", &err), 0);
        ck_assert_int_lt(image_tag(&st, "testimg:1", "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                   &err),
                         0);
        berth_error_free(&err);
        ck_assert_int_eq(image_tag(&st, "nosuch", "x", &err), -ENOENT);
        berth_error_free(&err);
        struct berth_image **list = NULL;
        size_t n = 0;
        ck_assert_int_eq(image_list(&st, &list, &n, &err), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(strv_length(list[0]->tags), 2);
        image_list_free(list, n);

        /* rmi of one of two tags only untags */
        cleanup_strv char **lines = xcalloc(1, sizeof(char *));
        ck_assert_int_eq(image_remove(&st, "testimg:1", false, NULL, &lines, collect_line, &err), 0);
        ck_assert_str_eq(lines[0], "Untagged: testimg:1");
        ck_assert_ptr_null(lines[1]);
        ck_assert_int_eq(image_lookup(&st, "testimg:1", &img, &err), -ENOENT);
        berth_error_free(&err);

        /* the last tag deletes: blobs, layer and link are gone */
        ck_assert_int_eq(image_remove(&st, "localhost:5000/other/name:v2", false, NULL, &lines, collect_line, &err),
                         0);
        ck_assert_str_eq(lines[1], "Untagged: localhost:5000/other/name:v2");
        cleanup_free char *deleted = xasprintf("Deleted: %s", id);
        ck_assert_str_eq(lines[2], deleted);
        assert_store_empty();
        ck_assert_int_eq(image_list(&st, &list, &n, &err), 0);
        ck_assert_uint_eq(n, 0);
        image_list_free(list, n);
}
END_TEST

/* A short name is also looked for where default-registry pulls it from. */
START_TEST(test_lookup_default_registry)
{
        cleanup_free char *tar = make_tar("rootfs.tar", ARCHIVE_FILTER_NONE, rootfs, ARRAY_SIZE(rootfs), 0);
        cleanup_free char *id = import_tar(tar, "reg.example:5000/busybox:1", NULL);
        berth_error_t err = NULL;
        struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "busybox:1", &img, &err), -ENOENT);
        berth_error_free(&err);
        st.default_registry = xstrdup("reg.example:5000");
        ck_assert_int_eq(image_lookup(&st, "busybox:1", &img, &err), 0);
        ck_assert_str_eq(img->id, id);
        image_free(img);
        /* Docker Hub's own names stay there; a miss names what was asked for */
        static const char *const misses[] = { "docker.io/busybox:1", "library/busybox:1", "busybox:2" };
        for (size_t i = 0; i < ARRAY_SIZE(misses); i++) {
                ck_assert_int_eq(image_lookup(&st, misses[i], &img, &err), -ENOENT);
                ck_assert_msg(strstr(err->msg, "No such image: ") && !strstr(err->msg, "reg.example"), "%s",
                              err->msg);
                berth_error_free(&err);
        }
}
END_TEST

START_TEST(test_import_bad_input)
{
        berth_error_t err = NULL;
        char *id = NULL;
        cleanup_free char *rnd = xasprintf("%s/random", tdir);
        unsigned char junk[5000];
        ck_assert_int_eq(random_bytes(junk, sizeof(junk)), 0);
        ck_assert_int_eq(write_file_atomic(rnd, junk, sizeof(junk), 0644, NULL), 0);
        char big[8192];
        memset(big, 'b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        const struct tentry bigf[] = { { T_FILE, "big", big, 0644, 0, NULL, 0 } };
        cleanup_free char *trunc = make_tar("trunc.tar", ARCHIVE_FILTER_NONE, bigf, 1, 4096);
        cleanup_free char *truncz = make_tar("trunc.tar.zst", ARCHIVE_FILTER_ZSTD, bigf, 1, 30);
        cleanup_free char *empty = xasprintf("%s/empty", tdir);
        ck_assert_int_eq(write_file_atomic(empty, "", 0, 0644, NULL), 0);
        const struct tentry evil[] = { { T_FILE, "../../etc/x", "e", 0644, 0, NULL, 0 } };
        cleanup_free char *evil_tar = make_tar("evil.tar", ARCHIVE_FILTER_NONE, evil, 1, 0);
        const char *inputs[] = { rnd, trunc, truncz, empty, evil_tar };
        for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
                int fd = open(inputs[i], O_RDONLY | O_CLOEXEC);
                ck_assert_int_ge(fd, 0);
                int r = image_import(&st, fd, "bad:1", NULL, NULL, &id, &err);
                close(fd);
                ck_assert_msg(r < 0, "%s imported", inputs[i]);
                ck_assert_msg(strstr(err->msg, "not a valid tar archive") || strstr(err->msg, "escapes"), "%s",
                              err->msg);
                berth_error_free(&err);
                assert_store_empty();
                cleanup_free char *idx = store_path(&st, "images.json");
                ck_assert_int_eq(access(idx, F_OK), -1);
        }
        /* a bad reference or change is refused before reading anything */
        int fd = open(rnd, O_RDONLY | O_CLOEXEC);
        ck_assert_int_lt(image_import(&st, fd, "Bad:Ref", NULL, NULL, &id, &err), 0);
        berth_error_free(&err);
        char *bad_change[] = { "RUN rm -rf /", NULL };
        ck_assert_int_lt(image_import(&st, fd, NULL, bad_change, NULL, &id, &err), 0);
        ck_assert_msg(strstr(err->msg, "RUN is not a valid change command"), "%s", err->msg);
        berth_error_free(&err);
        close(fd);
        assert_store_empty();
}
END_TEST

static int fake_in_use(const char *image_id, char **container_id, void *ud, berth_error_t *err)
{
        *container_id = xstrdup("1a2b3c4d5e6f7a8b9c0d");
        return 1;
}

static int cannot_tell(const char *image_id, char **container_id, void *ud, berth_error_t *err)
{
        return berth_error(err, 0, "cannot tell");
}

START_TEST(test_rmi_rules)
{
        cleanup_free char *tar = make_tar("rootfs.tar", ARCHIVE_FILTER_NONE, rootfs, ARRAY_SIZE(rootfs), 0);
        cleanup_free char *id1 = import_tar(tar, "alpha", NULL);
        cleanup_free char *id2 = import_tar(tar, "beta:1", NULL); /* same layer, new config (created) */
        ck_assert_str_ne(id1, id2);
        ck_assert_uint_eq(count_entries("layers"), 1);
        berth_error_t err = NULL;

        /* in use: refused without force, message as Docker's */
        ck_assert_int_lt(image_remove(&st, "alpha", false, fake_in_use, NULL, NULL, &err), 0);
        cleanup_free char *want = xasprintf("conflict: unable to remove repository reference \"alpha\" (must force) - "
                                            "container 1a2b3c4d5e6f is using its referenced image %.12s",
                                            id1 + 7);
        ck_assert_str_eq(err->msg, want);
        berth_error_free(&err);
        /* in use by ID */
        ck_assert_int_lt(image_remove(&st, id1, false, fake_in_use, NULL, NULL, &err), 0);
        ck_assert_msg(strstr(err->msg, "image is being used by container 1a2b3c4d5e6f"), "%s", err->msg);
        berth_error_free(&err);
        /* forced: untagged, but kept as <none> with its layer */
        ck_assert_int_eq(image_remove(&st, "alpha", true, fake_in_use, NULL, NULL, &err), 0);
        struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, id1, &img, &err), 0);
        ck_assert_ptr_null(img->tags[0]);
        image_free(img);

        /* an ID tagged in two repositories needs force */
        ck_assert_int_eq(image_tag(&st, "beta:1", "gamma", &err), 0);
        ck_assert_int_lt(image_remove(&st, id2 + 7, false, NULL, NULL, NULL, &err), 0);
        ck_assert_msg(strstr(err->msg, "referenced in multiple repositories"), "%s", err->msg);
        berth_error_free(&err);
        /* two tags of one repository: the ID removes both */
        ck_assert_int_eq(image_tag(&st, "gamma", "beta:2", &err), 0);
        ck_assert_int_eq(image_remove(&st, "gamma", false, NULL, NULL, NULL, &err), 0);
        ck_assert_int_eq(image_remove(&st, id2, false, NULL, NULL, NULL, &err), 0);
        ck_assert_int_eq(image_lookup(&st, "beta:1", &img, &err), -ENOENT);
        berth_error_free(&err);
        /* the shared layer stays for the <none> image */
        ck_assert_uint_eq(count_entries("layers"), 1);
        ck_assert_int_eq(image_remove(&st, id1, false, NULL, NULL, NULL, &err), 0);
        assert_store_empty();

        /* store_image_in_use reads the containers' records */
        cleanup_free char *id3 = import_tar(tar, "delta", NULL);
        const char *cid_full = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
        cleanup_free char *cdir = store_path(&st, "containers/%s", cid_full);
        ck_assert_int_eq(mkdir(cdir, 0700), 0);
        cleanup_free char *cfg = xasprintf("%s/config.json", cdir);
        cleanup_free char *state = xasprintf("%s/state.json", cdir);
        cleanup_free char *json = xasprintf("{\"Id\": \"%s\", \"Image\": \"%s\"}", cid_full, id3);
        ck_assert_int_eq(write_file_atomic(cfg, json, strlen(json), 0600, NULL), 0);
        ck_assert_int_eq(write_file_atomic(state, "{}", 2, 0600, NULL), 0);
        cleanup_free char *cid = NULL;
        ck_assert_int_eq(store_image_in_use(&st, id3, &cid, &err), 1);
        ck_assert_str_eq(cid, cid_full);
        ck_assert_int_eq(store_image_in_use(&st, id1, NULL, &err), 0);

        /* a record that cannot be read: nobody can tell, so the answer is an error */
        ck_assert_int_eq(write_file_atomic(state, "garbage", 7, 0600, NULL), 0);
        ck_assert_int_lt(store_image_in_use(&st, id1, NULL, &err), 0);
        ck_assert_msg(strstr(err->msg, "cannot tell whether image") &&
                              strstr(err->msg, "container record abcdef012345 unreadable") &&
                              strstr(err->msg, "run berth system check"),
                      "%s", err->msg);
        berth_error_free(&err);
        /* and image_remove removes nothing, forced or not */
        ck_assert_int_lt(image_remove(&st, "delta", true, cannot_tell, NULL, NULL, &err), 0);
        ck_assert_str_eq(err->msg, "cannot tell");
        berth_error_free(&err);
        ck_assert_int_eq(image_lookup(&st, "delta", &img, &err), 0);
        image_free(img);
}
END_TEST

START_TEST(test_ambiguous_prefix)
{
        cleanup_free char *tar = make_tar("rootfs.tar", ARCHIVE_FILTER_NONE, rootfs, ARRAY_SIZE(rootfs), 0);
        cleanup_strv char **ids = xcalloc(1, sizeof(char *));
        char dup = 0;
        for (int i = 0; i < 17 && !dup; i++) {
                cleanup_free char *id = import_tar(tar, NULL, NULL);
                for (size_t k = 0; ids[k]; k++)
                        if (ids[k][7] == id[7])
                                dup = id[7];
                strv_push(&ids, id);
        }
        ck_assert(dup);
        char prefix[2] = { dup, 0 };
        struct berth_image *img = NULL;
        berth_error_t err = NULL;
        ck_assert_int_lt(image_lookup(&st, prefix, &img, &err), 0);
        ck_assert_msg(strstr(err->msg, "multiple IDs found with provided prefix"), "%s", err->msg);
        berth_error_free(&err);
        struct berth_image **list = NULL;
        size_t n = 0;
        ck_assert_int_eq(image_list(&st, &list, &n, &err), 0);
        ck_assert_uint_eq(n, strv_length(ids));
        for (size_t i = 1; i < n; i++)
                ck_assert_int_ge(list[i - 1]->created_ns, list[i]->created_ns);
        image_list_free(list, n);
}
END_TEST

START_TEST(test_tmp_prune)
{
        berth_error_t err = NULL;
        char *live = NULL;
        int fd = -1;
        ck_assert_int_eq(store_tmp_create(&st, "live", true, &live, &fd, &err), 0);
        cleanup_free char *dead = store_path(&st, "tmp/dead-123");
        ck_assert_int_eq(mkdir(dead, 0700), 0);
        ck_assert_int_eq(store_tmp_prune(&st, 0, NULL, NULL, &err), 0);
        ck_assert_int_eq(access(live, F_OK), 0);
        ck_assert_int_eq(access(dead, F_OK), -1);
        close(fd);
        ck_assert_int_eq(store_tmp_prune(&st, 0, NULL, NULL, &err), 0);
        ck_assert_int_eq(access(live, F_OK), -1);
        free(live);
}
END_TEST

static Suite *image_suite(void)
{
        Suite *s = suite_create("image");
        TCase *tc = tcase_create("refs");
        tcase_add_test(tc, test_ref_table);
        tcase_add_test(tc, test_ref_default_registry);
        suite_add_tcase(s, tc);
        tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_blob_put);
        tcase_add_test(tc, test_layer_unpack_basic);
        tcase_add_test(tc, test_layer_whiteouts);
        tcase_add_test(tc, test_layer_refusals);
        tcase_add_test(tc, test_import_lookup_rmi);
        tcase_add_test(tc, test_lookup_default_registry);
        tcase_add_test(tc, test_import_bad_input);
        tcase_add_test(tc, test_rmi_rules);
        tcase_add_test(tc, test_ambiguous_prefix);
        tcase_add_test(tc, test_tmp_prune);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(image_suite)
