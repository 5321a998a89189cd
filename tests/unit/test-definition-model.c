/* Unit tests: the rest of the definition model (definition.h) — .volume and
 * .network files and the units that create them, Volume=NAME.volume and
 * Network=NAME.network references, drop-ins merged in systemd's order, and
 * templates (web@.container, %i, DefaultInstance=).  Runs under valgrind in
 * CI (CK_FORK=no), so everything is freed. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "berth/definition.h"
#include "berth/util.h"
#include "check-main.h"
#include "strv-check.h"
#include "tmpdir-fixture.h"

/* tmpdir is the search path too */
static void setup(void)
{
        tmpdir_make("defm");
        setenv("BERTH_DEFINITION_PATH", tmpdir, 1);
}

static void teardown(void)
{
        tmpdir_remove();
        unsetenv("BERTH_DEFINITION_PATH");
}


/* Load NAME of the kind its file has, as _unit-start would find it. */
static struct definition *load_kind(const char *name, enum definition_kind kind, berth_error_t *err)
{
        cleanup_free char *path = NULL;
        struct definition *d = NULL;
        if (definition_find_kind(name, kind, &path, err) < 0 || definition_load(path, name, &d, err) < 0)
                return NULL;
        return d;
}

static struct definition *load_good(const char *name, enum definition_kind kind)
{
        cleanup_error berth_error_t err = NULL;
        struct definition *d = load_kind(name, kind, &err);
        ck_assert_msg(d != NULL, "load %s: %s", name, err ? err->msg : "?");
        return d;
}

/* The error of loading NAME, with the temp dir replaced by "DIR". */
static char *load_bad(const char *name, enum definition_kind kind)
{
        cleanup_error berth_error_t err = NULL;
        struct definition *d = load_kind(name, kind, &err);
        ck_assert_ptr_null(d);
        ck_assert_ptr_nonnull(err);
        char *out = xstrdup(err->msg);
        for (char *at; (at = strstr(out, tmpdir));) {
                char *t = xasprintf("%.*sDIR%s", (int) (at - out), out, at + strlen(tmpdir));
                free(out);
                out = t;
        }
        return out;
}

#define BAD_EQ(file, text, name, kind, want)                          \
        do {                                                          \
                free(tmpdir_write(file, text));                           \
                cleanup_free char *_m = load_bad(name, kind);         \
                ck_assert_str_eq(_m, want);                           \
        } while (0)


static bool endswith(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && streq(s + n - m, suffix);
}


/* ---- .volume and .network ------------------------------------------------------- */

START_TEST(test_volume)
{
        free(tmpdir_write("data.volume", "[Volume]\nLabel=app=web \"note=two words\"\nDriver=local\nCopy=yes\n"
                                     "[Unit]\nDescription=the data\n[Install]\nWantedBy=multi-user.target\n"));
        cleanup_definition struct definition *d = load_good("data", DEFINITION_VOLUME);
        ck_assert_int_eq(d->kind, DEFINITION_VOLUME);
        ck_assert_str_eq(d->resource_name, "data"); /* the default: the file's NAME */
        STRV_EQ(d->create_args, "volume", "create", "--label", "app=web", "--label", "note=two words", "data");
        cleanup_free char *unit = definition_unit_name(d->kind, d->name);
        ck_assert_str_eq(unit, "berth-volume@data.service");

        cleanup_free char *text = definition_dropin(d); /* not a drop-in: a unit of its own */
        HAS_LINE(text, "[Service]");
        cleanup_free char *path = definition_dropin_path(d, "/out");
        ck_assert_str_eq(path, "/out/berth-volume@data.service");
        cleanup_strv char **links = definition_install_links(d);
        STRV_EQ(links, "multi-user.target.wants/berth-volume@data.service");

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        definition_print(d, "/out", f);
        fclose(f);
        cleanup_free char *printed = buf;
        HAS_LINE(printed, "# /out/berth-volume@data.service");
        HAS_LINE(printed, "Description=the data");
        HAS_LINE(printed, "Type=oneshot");
        HAS_LINE(printed, "RemainAfterExit=yes");
        HAS_LINE(printed, "ExecStart=" BERTH_BINDIR "/berth volume create --label app=web --label \"note=two words\" data");
        HAS_LINE(printed, "# /out/multi-user.target.wants/berth-volume@data.service -> /out/berth-volume@data.service");

        /* VolumeName= names it; '%' and '$' are literal in ExecStart= */
        free(tmpdir_write("named.volume", "[Volume]\nVolumeName=web-data\nLabel=cost=5$%%\n"));
        cleanup_definition struct definition *n = load_good("named", DEFINITION_VOLUME);
        ck_assert_str_eq(n->resource_name, "web-data");
        buf = NULL;
        f = open_memstream(&buf, &len);
        definition_print(n, "/out", f);
        fclose(f);
        cleanup_free char *printed2 = buf;
        HAS_LINE(printed2, "ExecStart=" BERTH_BINDIR "/berth volume create --label \"cost=5$$%%\" web-data");
}
END_TEST

START_TEST(test_network)
{
        free(tmpdir_write("app.network", "[Network]\nSubnet=10.89.7.0/24\nDriver=bridge\n"));
        cleanup_definition struct definition *d = load_good("app", DEFINITION_NETWORK);
        ck_assert_str_eq(d->resource_name, "app");
        STRV_EQ(d->create_args, "network", "create", "--ignore", "--subnet", "10.89.7.0/24", "app");
        cleanup_free char *unit = definition_unit_name(d->kind, d->name);
        ck_assert_str_eq(unit, "berth-network@app.service");

        /* an empty Subnet= resets; NetworkName= names it */
        free(tmpdir_write("b.network", "[Network]\nSubnet=10.89.7.0/24\nSubnet=\nNetworkName=backend\n"));
        cleanup_definition struct definition *b = load_good("b", DEFINITION_NETWORK);
        STRV_EQ(b->create_args, "network", "create", "--ignore", "backend");
}
END_TEST

START_TEST(test_resource_errors)
{
        BAD_EQ("x.network", "[Network]\nSubnet=10.89.0.0/24\nGateway=10.89.0.1\n", "x", DEFINITION_NETWORK,
               "DIR/x.network:3: Gateway= is not supported: `berth network create` has no such option");
        BAD_EQ("x.network", "[Network]\nDriver=macvlan\n", "x", DEFINITION_NETWORK,
               "DIR/x.network:2: network driver 'macvlan' is not supported (berth has the bridge driver only)");
        BAD_EQ("x.network", "[Network]\nSubnet=10.1.0.0/24\nSubnet=10.2.0.0/24\n", "x", DEFINITION_NETWORK,
               "DIR/x.network:3: a second Subnet= ('10.2.0.0/24'): there can be one (an empty Subnet= resets the "
               "first)");
        BAD_EQ("x.network", "[Network]\nLabel=a=b\n", "x", DEFINITION_NETWORK,
               "DIR/x.network:2: Label= is not supported: `berth network create` has no such option");
        BAD_EQ("x.network", "[Network]\nFrob=1\n", "x", DEFINITION_NETWORK,
               "DIR/x.network:2: unknown key 'Frob' in section [Network]");
        BAD_EQ("x.volume", "[Volume]\nOptions=size=1G\n", "x", DEFINITION_VOLUME,
               "DIR/x.volume:2: Options= is not supported: `berth volume create` has no such option");
        BAD_EQ("x.volume", "[Container]\nImage=busybox\n", "x", DEFINITION_VOLUME,
               "DIR/x.volume:1: unknown section [Container] (use [Unit], [Volume], [Service] or [Install])");
        BAD_EQ("x.volume", "[Volume]\nVolumeName=a/b\n", "x", DEFINITION_VOLUME,
               "DIR/x.volume:2: invalid volume name: 'a/b' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)");
        BAD_EQ("x.volume", "[Volume]\nDriver=nfs\n", "x", DEFINITION_VOLUME,
               "DIR/x.volume:2: volume driver 'nfs' is not supported (berth has the local driver only)");
        BAD_EQ("x.container", "[Volume]\nVolumeName=a\n", "x", DEFINITION_CONTAINER,
               "DIR/x.container:1: unknown section [Volume] (use [Unit], [Container], [Service] or [Install])");
}
END_TEST

START_TEST(test_references)
{
        free(tmpdir_write("data.volume", "[Volume]\nVolumeName=web-data\n"));
        free(tmpdir_write("app.network", "[Network]\n"));
        free(tmpdir_write("web.container", "[Container]\nImage=busybox\nVolume=data.volume:/var/lib/x:ro\n"
                                       "Volume=/srv:/srv\nNetwork=app.network\n"));
        cleanup_definition struct definition *d = load_good("web", DEFINITION_CONTAINER);
        STRV_EQ(d->run_args, "-v", "web-data:/var/lib/x:ro", "-v", "/srv:/srv", "--network", "app");
        STRV_EQ(d->requires, "berth-volume@data.service", "berth-network@app.service");
        cleanup_free char *text = definition_dropin(d);
        HAS_LINE(text, "Requires=berth-volume@data.service");
        HAS_LINE(text, "After=berth-volume@data.service");
        HAS_LINE(text, "Requires=berth-network@app.service");
        HAS_LINE(text, "After=berth-network@app.service");

        /* a missing or bad definition is an error at the line that names it */
        cleanup_free char *want = xasprintf("DIR/web.container:3: no definition nope.volume in DIR");
        BAD_EQ("web.container", "[Container]\nImage=busybox\nVolume=nope.volume:/x\n", "web", DEFINITION_CONTAINER,
               want);
        free(tmpdir_write("bad.network", "[Network]\nInternal=yes\n"));
        BAD_EQ("web.container", "[Container]\nImage=busybox\n\nNetwork=bad.network\n", "web", DEFINITION_CONTAINER,
               "DIR/web.container:4: DIR/bad.network:2: Internal= is not supported: `berth network create` has no "
               "such option");
}
END_TEST

START_TEST(test_image_build)
{
        free(tmpdir_write("app.image", "[Image]\nImage=docker.io/library/nginx:1\nAllTags=no\nArch=arm64\nVariant=v8\n"));
        cleanup_definition struct definition *i = load_good("app", DEFINITION_IMAGE);
        ck_assert_str_eq(i->resource_name, "docker.io/library/nginx:1");
        STRV_EQ(i->create_args, "pull", "--platform", "linux/arm64/v8", "docker.io/library/nginx:1");
        cleanup_free char *unit = definition_unit_name(i->kind, i->name);
        ck_assert_str_eq(unit, "berth-image@app.service");
        cleanup_free char *text = definition_dropin(i);
        HAS_LINE(text, "After=network-online.target");
        HAS_LINE(text, "ExecStart=" BERTH_BINDIR "/berth pull --platform linux/arm64/v8 docker.io/library/nginx:1");

        free(tmpdir_write("app.build", "[Build]\nImageTag=localhost/app:1\nImageTag=app:latest\nFile=Containerfile\n"
                                   "Label=a=b\nTarget=final\nNetwork=none\n"));
        cleanup_definition struct definition *b = load_good("app", DEFINITION_BUILD);
        ck_assert_str_eq(b->resource_name, "localhost/app:1");
        cleanup_free char *file = xasprintf("%s/Containerfile", tmpdir);
        STRV_EQ(b->create_args, "build", "-t", "localhost/app:1", "-t", "app:latest", "-f", file, "--label", "a=b",
                "--target", "final", "--network", "none", tmpdir);
        free(tmpdir_write("other.build", "[Build]\nImageTag=other\nSetWorkingDirectory=/srv/ctx\nFile=df\n"));
        cleanup_definition struct definition *o = load_good("other", DEFINITION_BUILD);
        STRV_EQ(o->create_args, "build", "-t", "other", "-f", "/srv/ctx/df", "/srv/ctx");

        /* a container on them: their image, after their units */
        free(tmpdir_write("web.container", "[Container]\nImage=app.build\n"));
        cleanup_definition struct definition *w = load_good("web", DEFINITION_CONTAINER);
        ck_assert_str_eq(w->image, "localhost/app:1");
        STRV_EQ(w->requires, "berth-build@app.service");
        free(tmpdir_write("web.container", "[Container]\nImage=app.image\n"));
        cleanup_definition struct definition *w2 = load_good("web", DEFINITION_CONTAINER);
        ck_assert_str_eq(w2->image, "docker.io/library/nginx:1");
        STRV_EQ(w2->requires, "berth-image@app.service");

        BAD_EQ("x.image", "[Image]\nAllTags=yes\n", "x", DEFINITION_IMAGE, "DIR/x.image: missing Image= in [Image]");
        BAD_EQ("x.image", "[Image]\nImage=a\nAuthFile=/a\n", "x", DEFINITION_IMAGE,
               "DIR/x.image:3: AuthFile= is not supported: `berth pull` has no such option");
        BAD_EQ("x.build", "[Build]\nFile=a\n", "x", DEFINITION_BUILD, "DIR/x.build: missing ImageTag= in [Build]");
        BAD_EQ("x.build", "[Build]\nImageTag=x\nPull=always\n", "x", DEFINITION_BUILD,
               "DIR/x.build:3: Pull= is not supported: `berth build` has no such option");
        BAD_EQ("x.build", "[Build]\nImageTag=x\nSetWorkingDirectory=https://example.com/ctx.git\n", "x",
               DEFINITION_BUILD,
               "DIR/x.build: invalid SetWorkingDirectory= 'https://example.com/ctx.git' (use unit, file or an "
               "absolute path; berth builds from local directories only)");
        BAD_EQ("web.container", "[Container]\nImage=nope.build\n", "web", DEFINITION_CONTAINER,
               "DIR/web.container:2: no definition nope.build in DIR");
}
END_TEST

/* ---- drop-ins --------------------------------------------------------------------- */

START_TEST(test_dropins)
{
        free(tmpdir_write("web.container", "[Container]\nImage=busybox\nExec=sleep 1\nEnvironment=A=1\nLabel=x=1\n"));
        /* for every container, applied by file name among the others */
        free(tmpdir_write("container.d/10-all.conf", "[Container]\nEnvironment=ALL=yes\n"));
        /* hidden by the more specific web.container.d/30-mask.conf */
        free(tmpdir_write("container.d/30-mask.conf", "[Container]\nEnvironment=HIDDEN=yes\n"));
        free(tmpdir_write("web.container.d/30-mask.conf", "[Service]\nRestart=always\n"));
        /* later files override single values, add to lists, "" resets */
        free(tmpdir_write("web.container.d/20-web.conf",
                      "[Container]\nExec=sleep 2\nEnvironment=B=2\nLabel=\nLabel=y=2\n[Unit]\nDescription=web\n"));
        free(tmpdir_write("web.container.d/notes.txt", "not a drop-in\n"));
        free(tmpdir_write("other.container.d/10.conf", "[Container]\nEnvironment=OTHER=1\n"));
        cleanup_definition struct definition *d = load_good("web", DEFINITION_CONTAINER);
        STRV_EQ(d->command, "sleep", "2");
        STRV_EQ(d->run_args, "-e", "A=1", "-e", "ALL=yes", "-e", "B=2", "-l", "y=2");
        STRV_EQ(d->unit_lines, "Description=web");
        STRV_EQ(d->service_lines, "Restart=always");
        ck_assert_uint_eq(strv_length(d->dropins), 3);
        ck_assert(endswith(d->dropins[0], "/container.d/10-all.conf"));
        ck_assert(endswith(d->dropins[1], "/web.container.d/20-web.conf"));
        ck_assert(endswith(d->dropins[2], "/web.container.d/30-mask.conf"));

        /* an error in a drop-in names the drop-in's line */
        free(tmpdir_write("web.container.d/40-bad.conf", "[Container]\n\nFrob=1\n"));
        cleanup_free char *m = load_bad("web", DEFINITION_CONTAINER);
        ck_assert_str_eq(m, "DIR/web.container.d/40-bad.conf:3: unknown key 'Frob' in section [Container]");

        /* a drop-in linked to /dev/null masks that name */
        cleanup_free char *mask = xasprintf("%s/web.container.d/40-bad.conf", tmpdir);
        ck_assert_int_eq(unlink(mask), 0);
        ck_assert_int_eq(symlink("/dev/null", mask), 0);
        cleanup_definition struct definition *d2 = load_good("web", DEFINITION_CONTAINER);
        ck_assert_uint_eq(strv_length(d2->dropins), 3);

        /* volumes have theirs too */
        free(tmpdir_write("data.volume", "[Volume]\n"));
        free(tmpdir_write("volume.d/10.conf", "[Volume]\nVolumeName=shared\n"));
        cleanup_definition struct definition *v = load_good("data", DEFINITION_VOLUME);
        ck_assert_str_eq(v->resource_name, "shared");
}
END_TEST

START_TEST(test_dropins_search_path)
{
        /* an earlier search directory's file of a name wins */
        cleanup_free char *path = xasprintf("%s/etc:%s/usr", tmpdir, tmpdir);
        setenv("BERTH_DEFINITION_PATH", path, 1);
        free(tmpdir_write("usr/web.container", "[Container]\nImage=busybox\n"));
        free(tmpdir_write("usr/web.container.d/10.conf", "[Container]\nEnvironment=FROM=usr\n"));
        free(tmpdir_write("etc/web.container.d/10.conf", "[Container]\nEnvironment=FROM=etc\n"));
        free(tmpdir_write("usr/web.container.d/05.conf", "[Container]\nEnvironment=EARLY=usr\n"));
        cleanup_definition struct definition *d = load_good("web", DEFINITION_CONTAINER);
        STRV_EQ(d->run_args, "-e", "EARLY=usr", "-e", "FROM=etc");
}
END_TEST

/* ---- templates -------------------------------------------------------------------- */

START_TEST(test_template)
{
        free(tmpdir_write("web@.container", "[Container]\nImage=busybox\nEnvironment=INSTANCE=%i NAME=%n\n"
                                        "[Service]\nEnvironment=PORT=80%i\n[Install]\nWantedBy=multi-user.target\n"
                                        "DefaultInstance=a\n"));
        free(tmpdir_write("web@.container.d/10.conf", "[Container]\nLabel=tier=web\n"));
        free(tmpdir_write("web@b.container.d/10.conf", "[Container]\nLabel=tier=b-only\n"));
        /* an instance nobody listed still loads (berth _unit-start web@c) */
        cleanup_definition struct definition *c = load_good("web@c", DEFINITION_CONTAINER);
        ck_assert_str_eq(c->name, "web@c");
        ck_assert_str_eq(c->instance, "c");
        ck_assert_str_eq(c->container_name, "web-c");
        STRV_EQ(c->run_args, "-e", "INSTANCE=c", "-e", "NAME=container@web@c.service", "-l", "tier=web");
        /* [Service] lines carry the definition's %i, escaped for systemd */
        STRV_EQ(c->service_lines_raw, "Environment=PORT=80c");
        cleanup_strv char **links = definition_install_links(c);
        STRV_EQ(links, "multi-user.target.wants/container@web@c.service");
        cleanup_free char *id = definition_container_id("web@c"), *id2 = definition_container_id("web@d");
        ck_assert_str_ne(id, id2);
        /* the instance's own drop-ins win over the template's */
        cleanup_definition struct definition *b = load_good("web@b", DEFINITION_CONTAINER);
        STRV_EQ(b->run_args, "-e", "INSTANCE=b", "-e", "NAME=container@web@b.service", "-l", "tier=b-only");

        /* definition_load_all: the default instance, and instance files (links
         * to the template); not the template itself */
        cleanup_free char *target = xasprintf("%s/web@.container", tmpdir);
        cleanup_free char *inst = xasprintf("%s/web@x.container", tmpdir);
        ck_assert_int_eq(symlink(target, inst), 0);
        struct definition **v = NULL;
        size_t n = 0;
        ck_assert_int_eq(definition_load_all(&v, &n, NULL, NULL), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(v[0]->name, "web@a");
        ck_assert_str_eq(v[1]->name, "web@x");
        ck_assert_str_eq(v[1]->container_name, "web-x");
        definitions_free(v, n);

        /* DefaultInstance= belongs to templates */
        BAD_EQ("one.container", "[Container]\nImage=busybox\n[Install]\nDefaultInstance=a\n", "one",
               DEFINITION_CONTAINER, "DIR/one.container:4: DefaultInstance= is only for templates (NAME@.container)");
        ck_assert(definition_name_valid("web@a"));
        ck_assert(!definition_name_valid("web@"));
        ck_assert(!definition_name_valid("@a"));
        ck_assert(!definition_name_valid("web@a@b"));
}
END_TEST

START_TEST(test_template_resources)
{
        /* a template's instance names a template volume's instance: both are made */
        free(tmpdir_write("data@.volume", "[Volume]\nLabel=for=%i\n"));
        free(tmpdir_write("db@.container", "[Container]\nImage=busybox\nVolume=data@%i.volume:/d\n"
                                       "[Install]\nDefaultInstance=main\n"));
        struct definition **v = NULL;
        size_t n = 0;
        ck_assert_int_eq(definition_load_all(&v, &n, NULL, NULL), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(v[0]->kind, DEFINITION_CONTAINER);
        ck_assert_str_eq(v[0]->name, "db@main");
        STRV_EQ(v[0]->run_args, "-v", "data-main:/d");
        STRV_EQ(v[0]->requires, "berth-volume@data@main.service");
        ck_assert_int_eq(v[1]->kind, DEFINITION_VOLUME);
        ck_assert_str_eq(v[1]->name, "data@main");
        STRV_EQ(v[1]->create_args, "volume", "create", "--label", "for=main", "data-main");
        definitions_free(v, n);
}
END_TEST

START_TEST(test_template_errors_reported)
{
        /* a bad template is reported once, even without instances */
        free(tmpdir_write("bad@.container", "[Container]\nImage=busybox\nFrob=1\n"));
        free(tmpdir_write("good.container", "[Container]\nImage=busybox\n"));
        struct definition **v = NULL;
        size_t n = 0;
        ck_assert_int_eq(definition_load_all(&v, &n, NULL, NULL), 1);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(v[0]->name, "good");
        definitions_free(v, n);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("definition-model");
        TCase *tc = tcase_create("resources");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_volume);
        tcase_add_test(tc, test_network);
        tcase_add_test(tc, test_resource_errors);
        tcase_add_test(tc, test_references);
        tcase_add_test(tc, test_image_build);
        suite_add_tcase(s, tc);
        tc = tcase_create("merge");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_dropins);
        tcase_add_test(tc, test_dropins_search_path);
        tcase_add_test(tc, test_template);
        tcase_add_test(tc, test_template_resources);
        tcase_add_test(tc, test_template_errors_reported);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
