/* The compiled-rules cache: a first load writes the database to the cache directory, a second
 * load reads it back, a corrupt entry or an unsafe directory only costs a compile, and the
 * rules behave the same either way. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules/rules.h"
#include "support/tmpdir.h"
#include "util/alloc.h"

static const char rule[] = "rules:\n"
                           "  - code: TEST_PRIZE\n"
                           "    score: 3\n"
                           "    description: A prize.\n"
                           "    regex:\n"
                           "      - 'you have won'\n";

static int count_entries(const char *dir, char *name, size_t size)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".hsdb") && e->d_name[0] != '.') {
            n++;
            snprintf(name, size, "%s/%s", dir, e->d_name);
        }
    if (d)
        closedir(d);
    return n;
}

static void load_ok(void)
{
    struct sg_rules *rs = NULL;
    char *errors = NULL;
    int rc = sg__rules_load_string("t.yaml", rule, strlen(rule), SG_RULES_NO_BUILTIN, &rs, &errors);
    if (rc)
        fprintf(stderr, "%s\n", errors ? errors : "?");
    assert_int_equal(rc, 0);
    assert_int_equal(sg__rules_find(rs, "TEST_PRIZE"), 0);
    sg__rules_free(rs);
    sg__free(errors);
}

static void writes_then_reads(void **state)
{
    struct tmp *t = *state;
    setenv("SENDGUARD_CACHE_DIR", t->dir, 1);
    setenv("SENDGUARD_CACHE_MIN_MS", "0", 1); /* this small set compiles in milliseconds */
    char entry[512];
    assert_int_equal(count_entries(t->dir, entry, sizeof entry), 0);
    load_ok();
    assert_int_equal(count_entries(t->dir, entry, sizeof entry), 1);
    struct stat before, after;
    assert_int_equal(stat(entry, &before), 0);
    assert_int_equal(before.st_mode & 077, 0); /* private to the user */
    load_ok(); /* read back: the entry is not rewritten */
    assert_int_equal(stat(entry, &after), 0);
    assert_true(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);

    /* A corrupt entry is compiled over and replaced. */
    FILE *f = fopen(entry, "w");
    assert_non_null(f);
    fputs("not a database", f);
    fclose(f);
    load_ok();
    assert_int_equal(stat(entry, &after), 0);
    assert_true(after.st_size > 100);
    unsetenv("SENDGUARD_CACHE_DIR");
    unsetenv("SENDGUARD_CACHE_MIN_MS");
}

static void quick_compiles_are_not_cached(void **state)
{
    struct tmp *t = *state;
    setenv("SENDGUARD_CACHE_DIR", t->dir, 1);
    load_ok(); /* milliseconds: below the default threshold */
    char entry[512];
    assert_int_equal(count_entries(t->dir, entry, sizeof entry), 0);
    unsetenv("SENDGUARD_CACHE_DIR");
}

static void unsafe_dir_is_not_used(void **state)
{
    struct tmp *t = *state;
    assert_int_equal(chmod(t->dir, 0777), 0); /* others could plant a database here */
    setenv("SENDGUARD_CACHE_DIR", t->dir, 1);
    setenv("SENDGUARD_CACHE_MIN_MS", "0", 1);
    load_ok();
    char entry[512];
    assert_int_equal(count_entries(t->dir, entry, sizeof entry), 0);
    unsetenv("SENDGUARD_CACHE_DIR");
    unsetenv("SENDGUARD_CACHE_MIN_MS");
    assert_int_equal(chmod(t->dir, 0700), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_then_reads, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(unsafe_dir_is_not_used, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(quick_compiles_are_not_cached, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
