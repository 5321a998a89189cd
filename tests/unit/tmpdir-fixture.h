/* tests/unit/tmpdir-fixture.h — a fresh directory per test case, for the
 * unit tests that write files (definitions, compose files): tmpdir_make()
 * in a check fixture's setup, tmpdir_remove() in its teardown. */
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

#endif
