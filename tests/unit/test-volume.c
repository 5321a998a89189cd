/* Unit tests: -v and --mount specs, volume names (volume.h), and the
 * copy-up tree copy.  Runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "berth/util.h"
#include "berth/volume.h"
#include "check-main.h"

/* Parse spec with fn; the parsed spec (caller clears it). */
static struct mount_spec parse_ok(int (*fn)(const char *, struct mount_spec *, berth_error_t *), const char *spec)
{
        struct mount_spec m;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(fn(spec, &m, &err) == 0, "%s: %s", spec, err ? err->msg : "");
        return m;
}

/* The one-line error of a bad spec (malloc'd). */
static char *parse_err(int (*fn)(const char *, struct mount_spec *, berth_error_t *), const char *spec)
{
        struct mount_spec m;
        berth_error_t err = NULL;
        ck_assert_msg(fn(spec, &m, &err) < 0, "%s: accepted", spec);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(!strchr(err->msg, '\n'), "%s: message has a newline", spec);
        char *msg = xstrdup(err->msg);
        berth_error_free(&err);
        mount_spec_clear(&m);
        return msg;
}

#define V mount_spec_parse_volume
#define M mount_spec_parse_mount

START_TEST(test_volume_names)
{
        ck_assert(volume_name_valid("data"));
        ck_assert(volume_name_valid("my_vol.1-x"));
        ck_assert(volume_name_valid("0a"));
        ck_assert(!volume_name_valid("a"));
        ck_assert(!volume_name_valid(""));
        ck_assert(!volume_name_valid(NULL));
        ck_assert(!volume_name_valid("_x"));
        ck_assert(!volume_name_valid(".x"));
        ck_assert(!volume_name_valid("a/b"));
        ck_assert(!volume_name_valid("a b"));
        ck_assert(!volume_name_valid("a:b"));
        char longname[300];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        ck_assert(!volume_name_valid(longname));
}
END_TEST

START_TEST(test_volume_flag)
{
        struct mount_spec m = parse_ok(V, "/host:/ctr");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_BIND);
        ck_assert_str_eq(m.source, "/host");
        ck_assert_str_eq(m.target, "/ctr");
        ck_assert(!m.readonly);
        ck_assert(m.create_host_dir);
        mount_spec_clear(&m);

        m = parse_ok(V, "/host:/ctr:ro");
        ck_assert(m.readonly);
        mount_spec_clear(&m);

        m = parse_ok(V, "/host:/ctr:rw,z");
        ck_assert(!m.readonly);
        mount_spec_clear(&m);

        m = parse_ok(V, "data:/data");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_VOLUME);
        ck_assert_str_eq(m.source, "data");
        ck_assert_str_eq(m.target, "/data");
        ck_assert(!m.create_host_dir);
        mount_spec_clear(&m);

        m = parse_ok(V, "data:/data:ro,nocopy");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_VOLUME);
        ck_assert(m.readonly);
        ck_assert(m.nocopy);
        ck_assert(!m.idmap);
        mount_spec_clear(&m);

        m = parse_ok(V, "/srv:/srv:idmap,ro");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_BIND);
        ck_assert(m.readonly);
        ck_assert(m.idmap);
        mount_spec_clear(&m);

        m = parse_ok(V, "/data");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_ANON);
        ck_assert_ptr_null(m.source);
        ck_assert_str_eq(m.target, "/data");
        mount_spec_clear(&m);

        m = parse_ok(V, "/data:ro");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_ANON);
        ck_assert(m.readonly);
        mount_spec_clear(&m);

        m = parse_ok(V, "/host:/data");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_BIND); /* "/data" is a path, not a mode */
        mount_spec_clear(&m);
}
END_TEST

START_TEST(test_volume_flag_errors)
{
        static const struct {
                const char *spec, *needle;
        } bad[] = {
                { "", "invalid volume specification" },
                { "data", "must be absolute" },
                { "data:relative", "must be absolute" },
                { "data:/x:bogus", "invalid mode: bogus" },
                { "data:/x:ro,rw", "invalid mode" },
                { "a:b:c:d", "invalid volume specification" },
                { "bad name:/x", "invalid characters for a local volume name" },
                { "_x:/x", "invalid characters" },
                { ":/x", "the source is empty" },
                { "data:/", "can't be '/'" },
                { "/h:/x:nocopy", "nocopy applies to volumes only" },
                { "data:/x:idmap", "idmap applies to host directories only" },
                { "/x:idmap", "idmap applies to host directories only" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *msg = parse_err(V, bad[i].spec);
                ck_assert_msg(strstr(msg, bad[i].needle), "%s: '%s' lacks '%s'", bad[i].spec, msg, bad[i].needle);
        }
}
END_TEST

START_TEST(test_mount_flag)
{
        struct mount_spec m = parse_ok(M, "type=volume,source=xy,target=/y,readonly");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_VOLUME);
        ck_assert_str_eq(m.source, "xy");
        ck_assert_str_eq(m.target, "/y");
        ck_assert(m.readonly);
        mount_spec_clear(&m);

        m = parse_ok(M, "src=xy,dst=/y,ro=false");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_VOLUME); /* volume is the default type */
        ck_assert(!m.readonly);
        mount_spec_clear(&m);

        m = parse_ok(M, "type=volume,target=/y,volume-nocopy");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_ANON);
        ck_assert(m.nocopy);
        mount_spec_clear(&m);

        m = parse_ok(M, "type=bind,source=/h,destination=/c,readonly=1");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_BIND);
        ck_assert(m.readonly);
        ck_assert(!m.create_host_dir); /* --mount never makes the host dir */
        mount_spec_clear(&m);

        m = parse_ok(M, "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=700");
        ck_assert_int_eq(m.kind, MOUNT_SPEC_TMPFS);
        ck_assert_str_eq(m.source, "size=64m,mode=700");
        mount_spec_clear(&m);

        m = parse_ok(M, "type=tmpfs,target=/t");
        ck_assert_ptr_null(m.source);
        mount_spec_clear(&m);
}
END_TEST

START_TEST(test_mount_flag_errors)
{
        static const struct {
                const char *spec, *needle;
        } bad[] = {
                { "type=volume,source=x", "target is required" },
                { "type=nfs,target=/x", "unknown type 'nfs'" },
                { "type=bind,target=/x", "needs a source" },
                { "type=bind,source=rel,target=/x", "must be an absolute path" },
                { "type=volume,target=/x,bogus=1", "unknown field 'bogus'" },
                { "type=volume,target=/x,flag", "must be a key=value pair" },
                { "type=volume,target=rel", "must be absolute" },
                { "type=volume,source=bad name,target=/x", "invalid characters" },
                { "type=volume,target=/x,readonly=maybe", "invalid value for readonly" },
                { "type=tmpfs,source=x,target=/x", "takes no source" },
                { "type=volume,target=/x,tmpfs-size=1m", "option not valid" },
                { "type=volume,target=/x,volume-driver=nfs", "not supported" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *msg = parse_err(M, bad[i].spec);
                ck_assert_msg(strstr(msg, bad[i].needle), "%s: '%s' lacks '%s'", bad[i].spec, msg, bad[i].needle);
        }
}
END_TEST

/* Relative bind sources become absolute (Docker 23+'s CLI), nothing else changes. */
static void abs_spec(char *(*fn)(const char *, const char *), const char *spec, const char *want)
{
        cleanup_free char *got = fn(spec, "/home/u/app");
        ck_assert_msg(streq(got, want), "%s -> %s, want %s", spec, got, want);
}

START_TEST(test_relative_sources)
{
        abs_spec(mount_spec_volume_absolute, "./data:/data", "/home/u/app/data:/data");
        abs_spec(mount_spec_volume_absolute, ".:/src:ro", "/home/u/app:/src:ro");
        abs_spec(mount_spec_volume_absolute, "../logs:/var/log", "/home/u/logs:/var/log");
        abs_spec(mount_spec_volume_absolute, "data:/data", "data:/data");       /* a named volume */
        abs_spec(mount_spec_volume_absolute, "/abs:/data", "/abs:/data");
        abs_spec(mount_spec_volume_absolute, "/data", "/data");                 /* anonymous */
        abs_spec(mount_spec_volume_absolute, ".data", ".data");                 /* no source: left to the parser */
        abs_spec(mount_spec_mount_absolute, "type=bind,source=./data,target=/d", "type=bind,source=/home/u/app/data,target=/d");
        abs_spec(mount_spec_mount_absolute, "src=sub/x,type=bind,dst=/d,ro", "src=/home/u/app/sub/x,type=bind,dst=/d,ro");
        abs_spec(mount_spec_mount_absolute, "type=volume,source=data,target=/d", "type=volume,source=data,target=/d");
        abs_spec(mount_spec_mount_absolute, "type=bind,source=/x,target=/d", "type=bind,source=/x,target=/d");
        abs_spec(mount_spec_mount_absolute, "source=./x,target=/d", "source=./x,target=/d"); /* a volume: refused later */
        /* and the result parses as a bind */
        struct mount_spec m;
        cleanup_error berth_error_t err = NULL;
        cleanup_free char *v = mount_spec_volume_absolute("./data:/data:ro", "/w");
        ck_assert_int_eq(mount_spec_parse_volume(v, &m, &err), 0);
        ck_assert_int_eq(m.kind, MOUNT_SPEC_BIND);
        ck_assert_str_eq(m.source, "/w/data");
        ck_assert(m.readonly);
        mount_spec_clear(&m);
}
END_TEST

START_TEST(test_copy_tree)
{
        char tmpl[] = "/tmp/test-volume-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        cleanup_free char *src = xasprintf("%s/src", tmpl), *dst = xasprintf("%s/dst", tmpl);
        cleanup_free char *sub = xasprintf("%s/src/sub", tmpl), *f = xasprintf("%s/src/sub/f", tmpl);
        cleanup_free char *lnk = xasprintf("%s/src/l", tmpl), *hl = xasprintf("%s/src/h", tmpl);
        ck_assert_int_eq(mkdir(src, 0755), 0);
        ck_assert_int_eq(mkdir(dst, 0755), 0);
        ck_assert_int_eq(mkdir(sub, 0710), 0);
        ck_assert_int_eq(write_file_atomic(f, "content", 7, 0640, NULL), 0);
        ck_assert_int_eq(symlink("sub/f", lnk), 0);
        ck_assert_int_eq(link(f, hl), 0);
        int s = open(src, O_RDONLY | O_DIRECTORY), d = open(dst, O_RDONLY | O_DIRECTORY);
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(volume_copy_tree(s, d, &err) == 0, "%s", err ? err->msg : "");
        close(s);
        close(d);
        cleanup_free char *df = xasprintf("%s/dst/sub/f", tmpl), *dl = xasprintf("%s/dst/l", tmpl);
        cleanup_free char *dh = xasprintf("%s/dst/h", tmpl), *dsub = xasprintf("%s/dst/sub", tmpl);
        cleanup_free char *text = NULL;
        ck_assert_int_eq(read_file(df, &text, NULL, NULL), 0);
        ck_assert_str_eq(text, "content");
        struct stat st, st2;
        ck_assert_int_eq(stat(df, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
        ck_assert_int_eq(stat(dsub, &st2), 0);
        ck_assert_int_eq(st2.st_mode & 07777, 0710);
        ck_assert_int_eq(stat(dh, &st2), 0);
        ck_assert_msg(st.st_ino == st2.st_ino, "hard link not kept");
        char target[64] = "";
        ck_assert_int_gt(readlink(dl, target, sizeof(target) - 1), 0);
        ck_assert_str_eq(target, "sub/f");
        ck_assert_int_eq(rm_rf(tmpl, NULL), 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("volume");
        TCase *tc = tcase_create("specs");
        tcase_add_test(tc, test_volume_names);
        tcase_add_test(tc, test_volume_flag);
        tcase_add_test(tc, test_volume_flag_errors);
        tcase_add_test(tc, test_mount_flag);
        tcase_add_test(tc, test_mount_flag_errors);
        tcase_add_test(tc, test_relative_sources);
        suite_add_tcase(s, tc);
        tc = tcase_create("copy");
        tcase_add_test(tc, test_copy_tree);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
