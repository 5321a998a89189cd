/* berth unit tests — a fresh store per test case (setup/teardown for check's
 * tcase_add_checked_fixture), shared by the image and archive tests. */
#ifndef BERTH_TEST_STORE_FIXTURE_H
#define BERTH_TEST_STORE_FIXTURE_H

#include <check.h>
#include <dirent.h>
#include <stdlib.h>

#include "berth/store.h"
#include "berth/util.h"

static char *tdir;
static struct berth_store st;

static void setup(void)
{
        tdir = xstrdup("/tmp/berth-unit-store-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tdir));
        cleanup_free char *root = xasprintf("%s/root", tdir);
        cleanup_free char *run = xasprintf("%s/run", tdir);
        berth_error_t err = NULL;
        ck_assert_int_eq(store_open(&st, root, run, &err), 0);
}

static void teardown(void)
{
        store_close(&st);
        rm_rf(tdir, NULL);
        free(tdir);
        tdir = NULL;
}

/* Entries in a store directory ("blobs/sha256", "layers"...). */
static size_t count_entries(const char *rel)
{
        cleanup_free char *p = store_path(&st, "%s", rel);
        cleanup_dir DIR *d = opendir(p);
        if (!d)
                return 0;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

#endif
