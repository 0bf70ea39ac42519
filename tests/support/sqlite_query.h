/* Test support: one integer read straight from a store file through a connection of its own, so
 * a test sees what is committed, not what the store's own connection holds. Header-only; the
 * including test has cmocka and sqlite3.h included. */
#ifndef SG_TEST_SQLITE_QUERY_H
#define SG_TEST_SQLITE_QUERY_H

#include <stdint.h>

/* The first column of the first row of sql over the file at path; fails the test otherwise. */
static inline int64_t file_query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

#endif
