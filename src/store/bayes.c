/* The classifier's counts in SQLite: bayes_scopes (messages learned per class) and bayes_tokens
 * (per-token counts), written as increments so that several processes learning into one store
 * add up, and read back whole when the model opens; bayes_snapshots keeps each class's counts
 * as one blob of a known generation, so that the read is one value when nothing changed since.
 * The model (src/bayes) keeps them in memory; nothing here is on the scanning path. */
#include "bayes/bayes_store.h"

#include <limits.h>

#include "store/store_internal.h"
#include "util/alloc.h"

/* Bumps scope's generation (and adds the message counts) in the open transaction. Not counted
 * as a write of the batch, so it cannot commit between itself and the row it goes with. */
static int bump(struct sg_store *store, sqlite3_stmt *st, const char *scope, int64_t spam_msgs,
                int64_t ham_msgs, const char *what)
{
    sg__store_bind_text(st, 1, scope);
    sqlite3_bind_int64(st, 2, spam_msgs);
    sqlite3_bind_int64(st, 3, ham_msgs);
    int rc = sqlite3_step(st);
    int err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
    sqlite3_reset(st);
    return err;
}

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
        "INSERT INTO bayes_scopes (scope, spam_msgs, ham_msgs, generation)\n"
        "VALUES (?1, max(0, ?2), max(0, ?3), 1)\n"
        "ON CONFLICT (scope) DO UPDATE SET spam_msgs = max(0, spam_msgs + ?2),\n"
        "                                  ham_msgs = max(0, ham_msgs + ?3),\n"
        "                                  generation = generation + 1",
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
    /* Every transaction that changes the class bumps its generation once, whatever else the
     * batch holds: a batch may commit in the middle of this call, and a snapshot taken between
     * two commits must not pass for one of the state after the second. The message counts go
     * with the first bump. */
    bool bumped = false;
    uint64_t bumped_in = 0;
    if (prune_st && !n && (spam_msgs || ham_msgs)) {
        err = sg__store_write_begin(store, what);
        if (!err)
            err = bump(store, scope_st, scope, spam_msgs, ham_msgs, what);
        if (!err)
            err = sg__store_write_done(store, what);
    }
    for (size_t i = 0; prune_st && !err && i < n; i++) {
        /* Each batch commit ends the transaction; the next row opens the next one. */
        if ((err = sg__store_write_begin(store, what)) != 0)
            break;
        if (!bumped || bumped_in != store->tx_serial) {
            err = bump(store, scope_st, scope, bumped ? 0 : spam_msgs, bumped ? 0 : ham_msgs,
                       what);
            if (err)
                break;
            bumped = true;
            bumped_in = store->tx_serial;
        }
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

/* A class's row of bayes_scopes, copied out of the statement. */
struct stored_scope {
    char *scope;
    int64_t spam_msgs, ham_msgs, generation;
    bool fresh;
};

static int collect_scopes(struct sg_store *store, struct stored_scope **out, size_t *count,
                          const char *what)
{
    int err = 0;
    struct stored_scope *v = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_BAYES_SCOPE_EACH,
        "SELECT s.scope, s.spam_msgs, s.ham_msgs, s.generation,\n"
        "       EXISTS (SELECT 1 FROM bayes_snapshots n\n"
        "               WHERE n.scope = s.scope AND n.generation = s.generation)\n"
        "FROM bayes_scopes s ORDER BY s.scope",
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
        if (!scope)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct stored_scope *nv = sg__realloc(v, ncap * sizeof *nv);
            if (!nv) {
                err = SG_ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[n] = (struct stored_scope){
            .scope = sg__strdup(scope),
            .spam_msgs = sqlite3_column_int64(st, 1),
            .ham_msgs = sqlite3_column_int64(st, 2),
            .generation = sqlite3_column_int64(st, 3),
            .fresh = sqlite3_column_int(st, 4) != 0,
        };
        if (!v[n].scope) {
            err = SG_ENOMEM;
            break;
        }
        n++;
    }
    if (st)
        sqlite3_reset(st);
    *out = v;
    *count = n;
    return err;
}

/* Hands the class's snapshot to the loader: its answer, or ROWS when none is stored for this
 * generation (the class changed since the scope row was read). */
static int read_snapshot(struct sg_store *store, const struct sg_bayes_loader *l,
                         const struct sg_bayes_stored *sc, const char *what)
{
    int err = 0;
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_BAYES_SNAPSHOT_GET,
        "SELECT data FROM bayes_snapshots WHERE scope = ?1 AND generation = ?2", what, &err);
    if (!st)
        return err;
    sg__store_bind_text(st, 1, sc->scope);
    sqlite3_bind_int64(st, 2, sc->generation);
    int rc = sqlite3_step(st);
    int want = SG_BAYES_READ_ROWS;
    if (rc == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        want = l->snapshot(l->ud, sc, data, data && len > 0 ? (size_t)len : 0);
    } else if (rc != SQLITE_DONE) {
        want = sg__store_fail(store, what, rc);
    }
    sqlite3_reset(st);
    return want;
}

static int read_rows(struct sg_store *store, const struct sg_bayes_loader *l,
                     const struct sg_bayes_stored *sc, const char *what)
{
    int err = 0;
    sqlite3_stmt *st = sg__store_stmt(store, SG_STMT_BAYES_TOKEN_COUNT,
                                      "SELECT count(*) FROM bayes_tokens WHERE scope = ?1", what,
                                      &err);
    if (!st)
        return err;
    sg__store_bind_text(st, 1, sc->scope);
    int rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    err = rc == SQLITE_ROW ? 0 : sg__store_fail(store, what, rc);
    sqlite3_reset(st);
    if (!err)
        err = l->rows(l->ud, sc, n);
    if (err)
        return err;
    /* The primary key's order, which is the order a snapshot lists tokens in. */
    st = sg__store_stmt(store, SG_STMT_BAYES_TOKEN_EACH,
                        "SELECT token, spam, ham FROM bayes_tokens WHERE scope = ?1 ORDER BY token",
                        what, &err);
    if (!st)
        return err;
    sg__store_bind_text(st, 1, sc->scope);
    while (!err) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        err = l->token(l->ud, sg__store_i64_to_u64(sqlite3_column_int64(st, 0)),
                       sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
    }
    sqlite3_reset(st);
    return err ? err : l->rows_end(l->ud, sc);
}

int sg__store_bayes_load(struct sg_store *store, const struct sg_bayes_loader *l)
{
    if (!store || !l || !l->scope || !l->snapshot || !l->rows || !l->token || !l->rows_end)
        return SG_EINVAL;
    static const char what[] = "bayes: select";
    sg__store_lock(store);
    /* The classes first, so that no statement is running while a loader writes a snapshot. */
    struct stored_scope *v;
    size_t n;
    int err = collect_scopes(store, &v, &n, what);
    for (size_t i = 0; !err && i < n; i++) {
        struct sg_bayes_stored sc = {v[i].scope, v[i].spam_msgs, v[i].ham_msgs, v[i].generation,
                                     v[i].fresh};
        int want = l->scope(l->ud, &sc);
        if (want == SG_BAYES_READ_SNAPSHOT)
            want = sc.fresh ? read_snapshot(store, l, &sc, what) : SG_BAYES_READ_ROWS;
        if (want == SG_BAYES_READ_ROWS)
            want = read_rows(store, l, &sc, what);
        if (want < 0)
            err = want;
    }
    for (size_t i = 0; i < n; i++)
        sg__free(v[i].scope);
    sg__free(v);
    sg__store_unlock(store);
    return err;
}

int sg__store_bayes_snapshot_put(struct sg_store *store, const char *scope, int64_t generation,
                                 const void *data, size_t len)
{
    if (!store)
        return SG_EINVAL;
    if (!scope || !data || len > INT_MAX)
        return sg__store_error(store, SG_EINVAL, "bayes: snapshot: no scope or data");
    static const char what[] = "bayes: snapshot";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_BAYES_SNAPSHOT_PUT,
        /* Only while the class is still at the generation its rows were read at. */
        "INSERT INTO bayes_snapshots (scope, generation, data)\n"
        "SELECT ?1, ?2, ?3 WHERE (SELECT generation FROM bayes_scopes WHERE scope = ?1) = ?2\n"
        "ON CONFLICT (scope) DO UPDATE SET generation = excluded.generation,\n"
        "                                  data = excluded.data",
        what, &err);
    if (st)
        err = sg__store_commit(store);
    if (st && !err)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, scope);
        sqlite3_bind_int64(st, 2, generation);
        sqlite3_bind_blob(st, 3, data, (int)len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st); /* the blob is the caller's */
        int c = sg__store_commit(store);
        if (!err)
            err = c;
    }
    sg__store_unlock(store);
    return err;
}
