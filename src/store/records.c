/* The smaller records: reports and reviews as received, alerts as raised, the link domains each
 * tenant has delivered (URL_NEW_DOMAIN), and the limiter's snapshot (each live key's theoretical
 * arrival times) saved on shutdown and loaded on start. */
#include <string.h>

#include "store/store_internal.h"
#include "util/alloc.h"

/* The limiter's windows per key (SG_GCRA_MAX_WINDOWS today), with room to grow. */
#define SG_STORE_LIMITER_MAX_TAT 64

/* ---- reports and reviews ---- */

int sg__store_event_apply(struct sg_store *store, const char *kind, const char *tenant,
                          const char *message_id, sg_time at, const char *json)
{
    /* The arguments were checked before they were queued (queue.c). */
    static const char what[] = "events: insert";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_EVENT_PUT,
        "INSERT INTO events (kind, tenant, message, at, json) VALUES (?1, ?2, ?3, ?4, ?5)", what,
        &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, kind);
        sg__store_bind_text(st, 2, tenant);
        sg__store_bind_text(st, 3, message_id);
        sqlite3_bind_int64(st, 4, at);
        sg__store_bind_text(st, 5, json);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

/* ---- alerts ---- */

int sg__store_alert_apply(struct sg_store *store, const char *tenant, const char *kind,
                          sg_time at, const char *json)
{
    static const char what[] = "alerts: insert";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_ALERT_PUT,
        "INSERT INTO alerts (tenant, kind, at, json) VALUES (?1, ?2, ?3, ?4)", what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, tenant);
        sg__store_bind_text(st, 2, kind);
        sqlite3_bind_int64(st, 3, at);
        sg__store_bind_text(st, 4, json);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

int sg__store_alert_list(struct sg_store *store, const char *tenant, sg_time since, char **json)
{
    if (!store)
        return SG_EINVAL;
    if (!json)
        return sg__store_error(store, SG_EINVAL, "alerts: select: no place for the result");
    *json = NULL;
    static const char what[] = "alerts: select";
    int err = 0;
    sg__store_drain(store);
    sg__store_lock(store);
    /* Two statements rather than "(?1 IS NULL OR tenant = ?1)", which no index can serve. */
    sqlite3_stmt *st =
        tenant ? sg__store_stmt(store, SG_STMT_ALERT_LIST,
                                "SELECT json FROM alerts WHERE tenant = ?1 AND at >= ?2"
                                " ORDER BY at, alert",
                                what, &err)
               : sg__store_stmt(store, SG_STMT_ALERT_LIST_ALL,
                                "SELECT json FROM alerts WHERE ?1 IS NULL AND at >= ?2"
                                " ORDER BY at, alert",
                                what, &err);
    struct sg_strbuf sb;
    sg__sb_init(&sb, 0);
    if (st) {
        sg__store_bind_text(st, 1, tenant);
        sqlite3_bind_int64(st, 2, since);
        sg__sb_addc(&sb, '[');
        for (;;) {
            int rc = sqlite3_step(st);
            if (rc == SQLITE_DONE)
                break;
            if (rc != SQLITE_ROW) {
                err = sg__store_fail(store, what, rc);
                break;
            }
            if (sb.len > 1)
                sg__sb_addc(&sb, ',');
            /* Stored as the engine wrote it: already a JSON object. */
            sg__sb_add(&sb, (const char *)sqlite3_column_text(st, 0),
                       (size_t)sqlite3_column_bytes(st, 0));
        }
        sg__sb_addc(&sb, ']');
        sqlite3_reset(st);
    }
    if (!err) {
        *json = sg__sb_steal(&sb);
        if (!*json)
            err = sg__store_error(store, SG_ETOOBIG, "alerts: select: result over %zu bytes",
                                  sb.max);
    }
    sg__sb_release(&sb);
    sg__store_unlock(store);
    return err;
}

/* ---- link domains a tenant has delivered ---- */

int sg__store_seen_domains_apply(struct sg_store *store, const char *tenant, sg_time at,
                                 const uint64_t *keys, const char *const *domains, size_t n)
{
    /* The arguments were checked before they were queued (queue.c). */
    static const char what[] = "seen domains: insert";
    int err = 0;
    sg__store_lock(store);
    /* OR IGNORE: two engines (or a replay over a daemon's store) may both learn a domain. */
    sqlite3_stmt *st = sg__store_stmt(store, SG_STMT_SEEN_DOMAIN_PUT,
                                      "INSERT OR IGNORE INTO seen_domains (key, tenant, domain,"
                                      " first_seen) VALUES (?1, ?2, ?3, ?4)",
                                      what, &err);
    for (size_t i = 0; st && !err && i < n; i++) {
        if ((err = sg__store_write_begin(store, what)))
            break;
        sqlite3_bind_int64(st, 1, sg__store_u64_to_i64(keys[i]));
        sg__store_bind_text(st, 2, tenant);
        sg__store_bind_text(st, 3, domains[i]);
        sqlite3_bind_int64(st, 4, at);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

struct key_reader {
    int (*fn)(void *ud, uint64_t key);
    void *ud;
};

static int read_key(sqlite3_stmt *st, void *ud)
{
    struct key_reader *r = ud;
    return r->fn(r->ud, sg__store_i64_to_u64(sqlite3_column_int64(st, 0)));
}

int sg__store_seen_domains_each(struct sg_store *store, int (*fn)(void *ud, uint64_t key),
                                void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    struct key_reader r = {fn, ud};
    return sg__store_each_row(store, SG_STMT_SEEN_DOMAIN_EACH, "SELECT key FROM seen_domains",
                              "seen domains: select", read_key, &r);
}

struct history_reader {
    int (*fn)(void *ud, const char *tenant, uint64_t messages);
    void *ud;
};

static int read_history(sqlite3_stmt *st, void *ud)
{
    struct history_reader *r = ud;
    const char *tenant = (const char *)sqlite3_column_text(st, 0);
    return tenant ? r->fn(r->ud, tenant, (uint64_t)sqlite3_column_int64(st, 1)) : 0;
}

int sg__store_link_history_each(struct sg_store *store,
                                int (*fn)(void *ud, const char *tenant, uint64_t messages),
                                void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    struct history_reader r = {fn, ud};
    return sg__store_each_row(store, SG_STMT_LINK_HISTORY_EACH,
                              "SELECT tenant, count(*) FROM verdicts WHERE action = 'allow'"
                              " AND url_domains <> '[]' GROUP BY tenant",
                              "link history: select", read_history, &r);
}

/* ---- limiter snapshot ---- */

int sg__store_limiter_clear_apply(struct sg_store *store)
{
    if (!store)
        return SG_EINVAL;
    static const char what[] = "limiter: delete";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(store, SG_STMT_LIMITER_CLEAR, "DELETE FROM limiter", what,
                                      &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err)
        err = sg__store_step_write(store, st, what);
    sg__store_unlock(store);
    return err;
}

int sg__store_limiter_apply(struct sg_store *store, uint64_t key, const int64_t *tat, size_t n)
{
    if (!store)
        return SG_EINVAL;
    if ((n && !tat) || n > SG_STORE_LIMITER_MAX_TAT)
        return sg__store_error(store, SG_EINVAL, "limiter: insert: %zu windows (at most %d)", n,
                               SG_STORE_LIMITER_MAX_TAT);
    uint64_t bits[SG_STORE_LIMITER_MAX_TAT];
    unsigned char blob[SG_STORE_LIMITER_MAX_TAT * 8];
    for (size_t i = 0; i < n; i++)
        bits[i] = sg__store_i64_to_u64(tat[i]);
    sg__store_le64_put(blob, bits, n);
    static const char what[] = "limiter: insert";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(store, SG_STMT_LIMITER_PUT,
                                      "INSERT OR REPLACE INTO limiter (key, tat) VALUES (?1, ?2)",
                                      what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sqlite3_bind_int64(st, 1, sg__store_u64_to_i64(key));
        /* A zero-length blob, not NULL, when n is 0 (tat is NOT NULL). */
        sqlite3_bind_blob(st, 2, blob, (int)(n * 8), SQLITE_STATIC);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

struct limiter_reader {
    struct sg_store *store;
    int (*fn)(void *ud, uint64_t key, const int64_t *tat, size_t n);
    void *ud;
};

static int read_limiter_key(sqlite3_stmt *st, void *ud)
{
    struct limiter_reader *r = ud;
    uint64_t key = sg__store_i64_to_u64(sqlite3_column_int64(st, 0));
    const unsigned char *blob = sqlite3_column_blob(st, 1);
    size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
    if (bytes % 8 || bytes / 8 > SG_STORE_LIMITER_MAX_TAT || (bytes && !blob))
        return sg__store_error(r->store, SG_ESTORE,
                               "limiter: select: key %llu has a malformed state of %zu bytes",
                               (unsigned long long)key, bytes);
    int64_t tat[SG_STORE_LIMITER_MAX_TAT];
    size_t n = bytes / 8;
    for (size_t i = 0; i < n; i++)
        tat[i] = sg__store_u64_to_i64(sg__store_le64_get(blob, i));
    return r->fn(r->ud, key, tat, n);
}

int sg__store_limiter_load(struct sg_store *store,
                           int (*fn)(void *ud, uint64_t key, const int64_t *tat, size_t n),
                           void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    struct limiter_reader r = {store, fn, ud};
    return sg__store_each_row(store, SG_STMT_LIMITER_LOAD, "SELECT key, tat FROM limiter ORDER BY key",
                              "limiter: select", read_limiter_key, &r);
}
