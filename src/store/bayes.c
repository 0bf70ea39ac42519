/* The classifier's counts in SQLite: bayes_scopes (messages learned per class) and bayes_tokens
 * (per-token counts), written as increments so that several processes learning into one store
 * add up, and read back whole when the model opens. The model (src/bayes) keeps them in memory;
 * nothing here is on the scanning path. */
#include "bayes/bayes_store.h"

#include "store/store_internal.h"

int sg__store_bayes_add(struct sg_store *store, const char *scope, int64_t spam_msgs,
                        int64_t ham_msgs, const struct sg_bayes_delta *rows, size_t n)
{
    if (!store)
        return SG_EINVAL;
    if (!scope || !*scope || (n && !rows))
        return sg__store_error(store, SG_EINVAL, "bayes: update: no scope or rows");
    static const char what[] = "bayes: update";
    int err = 0;
    sg__store_lock(store);
    /* The parameters appear twice: clamped as the first value, added to the stored one. */
    sqlite3_stmt *scope_st = sg__store_stmt(
        store, SG_STMT_BAYES_SCOPE_ADD,
        "INSERT INTO bayes_scopes (scope, spam_msgs, ham_msgs) VALUES (?1, max(0, ?2), max(0, ?3))\n"
        "ON CONFLICT (scope) DO UPDATE SET spam_msgs = max(0, spam_msgs + ?2),\n"
        "                                  ham_msgs = max(0, ham_msgs + ?3)",
        what, &err);
    sqlite3_stmt *tok_st = scope_st ? sg__store_stmt(
        store, SG_STMT_BAYES_TOKEN_ADD,
        "INSERT INTO bayes_tokens (scope, token, spam, ham) VALUES (?1, ?2, max(0, ?3), max(0, ?4))\n"
        "ON CONFLICT (scope, token) DO UPDATE SET spam = max(0, spam + ?3), ham = max(0, ham + ?4)",
        what, &err) : NULL;
    sqlite3_stmt *prune_st = tok_st ? sg__store_stmt(
        store, SG_STMT_BAYES_TOKEN_PRUNE,
        "DELETE FROM bayes_tokens WHERE scope = ?1 AND token = ?2 AND spam = 0 AND ham = 0",
        what, &err) : NULL;
    if (prune_st)
        err = sg__store_write_begin(store, what);
    if (prune_st && !err && (spam_msgs || ham_msgs)) {
        sg__store_bind_text(scope_st, 1, scope);
        sqlite3_bind_int64(scope_st, 2, spam_msgs);
        sqlite3_bind_int64(scope_st, 3, ham_msgs);
        int rc = sqlite3_step(scope_st);
        err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
        sqlite3_reset(scope_st);
        if (!err)
            err = sg__store_write_done(store, what);
    }
    for (size_t i = 0; prune_st && !err && i < n; i++) {
        /* Each batch commit ends the transaction; the next row opens the next one. */
        if ((err = sg__store_write_begin(store, what)) != 0)
            break;
        int64_t token = sg__store_u64_to_i64(rows[i].token);
        sg__store_bind_text(tok_st, 1, scope);
        sqlite3_bind_int64(tok_st, 2, token);
        sqlite3_bind_int64(tok_st, 3, rows[i].spam);
        sqlite3_bind_int64(tok_st, 4, rows[i].ham);
        int rc = sqlite3_step(tok_st);
        err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
        sqlite3_reset(tok_st);
        if (!err && (rows[i].spam < 0 || rows[i].ham < 0)) {
            sg__store_bind_text(prune_st, 1, scope);
            sqlite3_bind_int64(prune_st, 2, token);
            rc = sqlite3_step(prune_st);
            err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
            sqlite3_reset(prune_st);
        }
        if (!err)
            err = sg__store_write_done(store, what);
    }
    sg__store_unlock(store);
    return err;
}

int sg__store_bayes_load(struct sg_store *store,
                         int (*scope_fn)(void *ud, const char *scope, int64_t spam_msgs,
                                         int64_t ham_msgs, int64_t tokens),
                         int (*token_fn)(void *ud, const char *scope, uint64_t token,
                                         int64_t spam, int64_t ham),
                         void *ud)
{
    if (!store || !scope_fn || !token_fn)
        return SG_EINVAL;
    static const char what[] = "bayes: select";
    int err = 0;
    sg__store_lock(store);
    /* The token count (a range count on the primary key) lets the model size its table once
     * instead of doubling its way up through millions of rows. */
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_BAYES_SCOPE_EACH,
        "SELECT s.scope, s.spam_msgs, s.ham_msgs,\n"
        "       (SELECT count(*) FROM bayes_tokens t WHERE t.scope = s.scope)\n"
        "FROM bayes_scopes s",
        what, &err);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        const char *scope = (const char *)sqlite3_column_text(st, 0);
        if (scope)
            err = scope_fn(ud, scope, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                           sqlite3_column_int64(st, 3));
    }
    if (st)
        sqlite3_reset(st);
    /* In primary-key order, so the rows of one scope come together. */
    st = err ? NULL : sg__store_stmt(store, SG_STMT_BAYES_TOKEN_EACH,
                                     "SELECT scope, token, spam, ham FROM bayes_tokens", what,
                                     &err);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        const char *scope = (const char *)sqlite3_column_text(st, 0);
        if (scope)
            err = token_fn(ud, scope, sg__store_i64_to_u64(sqlite3_column_int64(st, 1)),
                           sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
    }
    if (st)
        sqlite3_reset(st);
    sg__store_unlock(store);
    return err;
}
