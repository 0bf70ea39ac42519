/* Test support: a cmocka fixture giving each test a fresh directory under /tmp with a store
 * path in it, removed in teardown (with whatever WAL/SHM files are left) even when the test
 * fails. Use tmp_setup/tmp_teardown with cmocka_unit_test_setup_teardown. */
#ifndef SG_TEST_TMPDIR_H
#define SG_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct tmp {
    char dir[32];
    char path[64]; /* dir/s.db */
};

static inline int tmp_setup(void **state)
{
    struct tmp *t = test_calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/sg-test-XXXXXX");
    if (!mkdtemp(t->dir)) {
        test_free(t);
        return -1;
    }
    snprintf(t->path, sizeof t->path, "%s/s.db", t->dir);
    *state = t;
    return 0;
}

static inline int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    DIR *d = opendir(t->dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[320];
        snprintf(p, sizeof p, "%s/%s", t->dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    int rc = rmdir(t->dir);
    test_free(t);
    return rc;
}

#endif
