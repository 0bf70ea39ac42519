/* The messages moderators taught the classifier (bayes_learned, migration 4): which class each
 * was learned as and the tokens that were counted, so that sg_engine_learn can refuse to count a
 * message twice and can move it to the other class, by event or by id alone. */
#include <string.h>

#include "store/store_internal.h"
#include "util/alloc.h"

int sg__store_learned_put(struct sg_store *store, const struct sg_learned_row *row)
{
    if (!store)
        return SG_EINVAL;
    if (!row || !row->tenant || !row->message || (row->ntokens && !row->tokens))
        return sg__store_error(store, SG_EINVAL, "learned: insert: missing argument");
    static const char what[] = "learned: insert";
    size_t bytes = (size_t)row->ntokens * 8;
    unsigned char *blob = sg__malloc(bytes ? bytes : 1);
    if (!blob)
        return sg__store_error(store, SG_ENOMEM, "learned: insert: out of memory");
    sg__store_le64_put(blob, row->tokens, row->ntokens);
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_LEARNED_PUT,
        "INSERT OR REPLACE INTO bayes_learned (tenant, message, class, global, at, tokens)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, row->tenant);
        sg__store_bind_text(st, 2, row->message);
        sqlite3_bind_int(st, 3, row->cls);
        sqlite3_bind_int(st, 4, row->global ? 1 : 0);
        sqlite3_bind_int64(st, 5, row->at);
        sqlite3_bind_blob(st, 6, blob, (int)bytes, SQLITE_STATIC);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    sg__free(blob);
    return err;
}

int sg__store_learned_get(struct sg_store *store, const char *tenant, const char *message,
                          struct sg_learned_row *out)
{
    if (!store)
        return SG_EINVAL;
    if (!tenant || !message || !out)
        return sg__store_error(store, SG_EINVAL, "learned: select: missing argument");
    memset(out, 0, sizeof *out);
    static const char what[] = "learned: select";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(store, SG_STMT_LEARNED_GET,
                                      "SELECT class, global, at, tokens FROM bayes_learned"
                                      " WHERE tenant = ?1 AND message = ?2",
                                      what, &err);
    if (st) {
        sg__store_bind_text(st, 1, tenant);
        sg__store_bind_text(st, 2, message);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            out->cls = sqlite3_column_int(st, 0);
            out->global = sqlite3_column_int(st, 1) != 0;
            out->at = sqlite3_column_int64(st, 2);
            const unsigned char *blob = sqlite3_column_blob(st, 3);
            size_t bytes = (size_t)sqlite3_column_bytes(st, 3);
            uint32_t n = (uint32_t)(bytes / 8);
            uint64_t *tokens = sg__malloc(n ? (size_t)n * 8 : 1);
            if (!tokens) {
                err = sg__store_error(store, SG_ENOMEM, "learned: select: out of memory");
            } else {
                for (uint32_t i = 0; i < n; i++)
                    tokens[i] = sg__store_le64_get(blob, i);
                out->tokens = tokens;
                out->ntokens = n;
            }
        } else if (rc == SQLITE_DONE) {
            err = SG_ENOTFOUND;
        } else {
            err = sg__store_fail(store, what, rc);
        }
        sqlite3_reset(st);
    }
    sg__store_unlock(store);
    return err;
}
