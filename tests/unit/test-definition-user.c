/* Unit tests: a user's definitions (definition.h) — the user's search path
 * (~/.config/berth/containers, $XDG_RUNTIME_DIR/berth/containers,
 * /etc/berth/containers/users/UID, /etc/berth/containers/users), root's and
 * a user's not seeing each other's, and what the units of a user's
 * definitions say (the user's template, the wait for the system's network).
 * Runs under valgrind in CI (CK_FORK=no), so everything is freed. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/definition-internal.h"
#include "berth/rootless.h"
#include "berth/util.h"
#include "check-main.h"
#include "strv-check.h"
#include "tmpdir-fixture.h"

static void setup(void)
{
        tmpdir_make("defu");
}

static void teardown(void)
{
        tmpdir_remove();
        unsetenv("BERTH_DEFINITION_PATH");
}

/* Write tmpdir/FILE, its directories made. */
static void write_at(const char *file, const char *text)
{
        free(tmpdir_write(file, text));
}

/* BERTH_DEFINITION_PATH set to dirs, colon-separated */
static void use_path(char **dirs)
{
        cleanup_free char *list = xstrdup("");
        for (size_t i = 0; dirs[i]; i++) {
                char *t = xasprintf("%s%s%s", list, i ? ":" : "", dirs[i]);
                free(list);
                list = t;
        }
        setenv("BERTH_DEFINITION_PATH", list, 1);
}

static const struct definition *by_name(struct definition **v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(v[i]->name, name))
                        return v[i];
        return NULL;
}

/* ---- the search path ------------------------------------------------------------ */

START_TEST(test_search_path)
{
        /* root's is the system's */
        cleanup_strv char **root = def_search_path(0, "/ignored", "/ignored", "/ignored");
        STRV_EQ(root, "/etc/berth/containers", "/run/berth/containers", "/usr/lib/berth/containers");

        /* a user's own directories first, then root's for this user, then for all */
        cleanup_strv char **user = def_search_path(1000, "/home/u/.config/berth", "/run/user/1000/berth",
                                                   BERTH_DEFINITION_SYSTEM_DIR);
        STRV_EQ(user, "/home/u/.config/berth/containers", "/run/user/1000/berth/containers",
                "/etc/berth/containers/users/1000", "/etc/berth/containers/users");

        /* no runtime directory: the others still count */
        cleanup_strv char **norun = def_search_path(1001, "/xdg/berth", NULL, "/sys-defs");
        STRV_EQ(norun, "/xdg/berth/containers", "/sys-defs/users/1001", "/sys-defs/users");
}
END_TEST

START_TEST(test_user_sees_own_and_users)
{
        write_at("cfg/containers/mine.container", "[Container]\nImage=mine\n");
        write_at("cfg/containers/web.container", "[Container]\nImage=own-web\n");
        write_at("sys/users/1000/web.container", "[Container]\nImage=root-for-1000\n");
        write_at("sys/users/1000/only.container", "[Container]\nImage=for-1000\n");
        write_at("sys/users/only.container", "[Container]\nImage=for-all-shadowed\n");
        write_at("sys/users/shared.container", "[Container]\nImage=for-all\n");
        write_at("sys/users/1001/other.container", "[Container]\nImage=for-1001\n");
        write_at("sys/users/container.d/10-env.conf", "[Container]\nEnvironment=FROM=users\n");
        write_at("sys/rootonly.container", "[Container]\nImage=root\n");
        write_at("sys/container.d/10-root.conf", "[Container]\nEnvironment=FROM=root\n");

        cleanup_free char *cfg = xasprintf("%s/cfg", tmpdir), *sys = xasprintf("%s/sys", tmpdir);
        cleanup_free char *run = xasprintf("%s/run-missing", tmpdir);
        cleanup_strv char **dirs = def_search_path(1000, cfg, run, sys);
        use_path(dirs);

        struct definition **v = NULL;
        size_t n = 0;
        ck_assert_int_eq(definition_load_all(&v, &n, NULL, NULL), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(by_name(v, n, "web")->image, "own-web");     /* the user's own wins */
        ck_assert_str_eq(by_name(v, n, "only")->image, "for-1000");   /* users/UID over users/ */
        ck_assert_str_eq(by_name(v, n, "shared")->image, "for-all");
        ck_assert_str_eq(by_name(v, n, "mine")->image, "mine");
        ck_assert_ptr_null(by_name(v, n, "other"));    /* another user's */
        ck_assert_ptr_null(by_name(v, n, "rootonly")); /* root's */
        /* users/container.d applies to the user's; root's container.d does not */
        const struct definition *mine = by_name(v, n, "mine");
        ck_assert(strv_contains(mine->run_args, "FROM=users"));
        ck_assert(!strv_contains(mine->run_args, "FROM=root"));
        definitions_free(v, n);

        /* root's search path does not descend into users/ */
        cleanup_strv char **root_dirs = xcalloc(1, sizeof(char *));
        strv_push(&root_dirs, sys);
        use_path(root_dirs);
        ck_assert_int_eq(definition_load_all(&v, &n, NULL, NULL), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(v[0]->name, "rootonly");
        ck_assert(!strv_contains(v[0]->run_args, "FROM=users"));
        definitions_free(v, n);
        cleanup_free char *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(definition_find("shared", &p, &err), 0);
}
END_TEST

/* ---- the units of a user's definitions ---------------------------------------------- */

static struct definition *load_user(const char *file, const char *text)
{
        write_at(file, text);
        setenv("BERTH_DEFINITION_PATH", tmpdir, 1);
        const char *dot = strrchr(file, '.');
        cleanup_free char *name = xstrndup(file, (size_t) (dot - file));
        cleanup_free char *path = xasprintf("%s/%s", tmpdir, file);
        struct definition *d = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(definition_load(path, name, &d, &err) == 0, "load: %s", err ? err->msg : "?");
        ck_assert_int_eq(d->user, rootless()); /* whoever loads it */
        d->user = true;
        return d;
}

START_TEST(test_user_units)
{
        /* a user's container waits for the system's network through the user unit */
        cleanup_definition struct definition *web =
                load_user("web.container", "[Container]\nImage=busybox\nPublishPort=8080:80\n"
                                           "[Install]\nWantedBy=default.target\n");
        cleanup_free char *text = definition_dropin(web);
        HAS_LINE(text, "# systemctl --user daemon-reload.  See berth.container(5).");
        HAS_LINE(text, "After=" DEFINITION_USER_WAIT_ONLINE);
        HAS_LINE(text, "Wants=" DEFINITION_USER_WAIT_ONLINE);
        NO_LINE(text, "After=network-online.target");
        cleanup_strv char **links = definition_install_links(web);
        STRV_EQ(links, "default.target.wants/container@web.service");
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        definition_print(web, "/run/user/1000/systemd/generator", f);
        fclose(f);
        cleanup_free char *ln = xasprintf("# /run/user/1000/systemd/generator/default.target.wants/container@web.service "
                                          "-> %s",
                                          DEFINITION_USER_TEMPLATE_UNIT);
        HAS_LINE(buf, ln);
        free(buf);

        /* without a port too (pasta needs the host's routes), but not with Network=none */
        cleanup_definition struct definition *plain = load_user("plain.container", "[Container]\nImage=busybox\n");
        cleanup_free char *ptext = definition_dropin(plain);
        HAS_LINE(ptext, "After=" DEFINITION_USER_WAIT_ONLINE);
        cleanup_definition struct definition *none =
                load_user("none.container", "[Container]\nImage=busybox\nNetwork=none\nPublishPort=8080:80\n");
        ck_assert(none->no_network);
        cleanup_free char *ntext = definition_dropin(none);
        NO_LINE(ntext, "After=" DEFINITION_USER_WAIT_ONLINE);
        NO_LINE(ntext, "After=network-online.target");

        /* root's: only a published port waits, for the system's target */
        none->user = plain->user = false;
        cleanup_free char *rtext = definition_dropin(plain);
        NO_LINE(rtext, "After=network-online.target");
        web->user = false;
        cleanup_free char *wtext = definition_dropin(web);
        HAS_LINE(wtext, "After=network-online.target");
        NO_LINE(wtext, "After=" DEFINITION_USER_WAIT_ONLINE);

        /* a user's image unit: the user's store, the wait unit */
        cleanup_definition struct definition *img =
                load_user("app.image", "[Image]\nImage=registry.example/app:1\n");
        cleanup_free char *itext = definition_dropin(img);
        HAS_LINE(itext, "# systemctl --user daemon-reload.  See berth.image(5).");
        HAS_LINE(itext, "After=" DEFINITION_USER_WAIT_ONLINE);
        NO_LINE(itext, "Wants=network-online.target");
        cleanup_free char *store = rootless_data_dir();
        cleanup_free char *mounts = xasprintf("RequiresMountsFor=%s", store);
        HAS_LINE(itext, mounts);
        HAS_LINE(itext, "ExecStart=" BERTH_BINDIR "/berth pull registry.example/app:1");
}
END_TEST

START_TEST(test_generator_dir)
{
        cleanup_free char *dir = definition_generator_dir();
        if (rootless()) {
                ck_assert(startswith(dir, "/"));
                ck_assert(strstr(dir, "/systemd/generator") != NULL);
        } else
                ck_assert_str_eq(dir, DEFINITION_GENERATOR_DIR);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("definition-user");
        TCase *tc = tcase_create("user");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_search_path);
        tcase_add_test(tc, test_user_sees_own_and_users);
        tcase_add_test(tc, test_user_units);
        tcase_add_test(tc, test_generator_dir);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
