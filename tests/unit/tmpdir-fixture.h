/* tests/unit/tmpdir-fixture.h — a fresh directory per test case, for the
 * unit tests that write files (definitions, compose files): tmpdir_make()
 * in a check fixture's setup, tmpdir_remove() in its teardown; tmpdir_write()
 * puts a file in it. */
#ifndef BERTH_TMPDIR_FIXTURE_H
#define BERTH_TMPDIR_FIXTURE_H

#include <check.h>
#include <stdlib.h>

#include "berth/util.h"

static char *tmpdir;

/* name: what the directory's name says, "/tmp/berth-test-NAME-XXXXXX" */
static inline void tmpdir_make(const char *name)
{
        tmpdir = xasprintf("/tmp/berth-test-%s-XXXXXX", name);
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static inline void tmpdir_remove(void)
{
        rm_rf(tmpdir, NULL);
        free(tmpdir);
        tmpdir = NULL;
}

/* Write tmpdir/FILE (its directories made); returns the path. */
static inline char *tmpdir_write(const char *file, const char *text)
{
        char *path = xasprintf("%s/%s", tmpdir, file);
        cleanup_free char *dir = xstrndup(path, (size_t) (strrchr(path, '/') - path));
        ck_assert_int_eq(mkdir_p(dir, 0755, NULL), 0);
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644, NULL), 0);
        return path;
}

#endif
