/* Tenants and accounts: the senders' records the engine keeps across restarts (signup data,
 * post counts for the "two posts" rule, delivered-message counts for first_message, status and
 * trust). Rows are upserted whole. */
#include <string.h>

#include "store/store_internal.h"

/* ---- tenants ---- */

/* A tenant event re-declares the tenant: fields it leaves out (NULL) keep their stored value,
 * and "created" stays the time the tenant was first seen. */

int sg__store_tenant_apply(struct sg_store *store, const struct sg_tenant_row *row)
{
    if (!store || !row || !row->tenant || !*row->tenant)
        return store ? sg__store_error(store, SG_EINVAL, "tenants: insert: no tenant")
                     : SG_EINVAL;
    static const char what[] = "tenants: insert";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_TENANT_PUT,
        "INSERT INTO tenants (tenant, timezone, working_hours, created) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (tenant) DO UPDATE SET"
        " timezone = coalesce(excluded.timezone, tenants.timezone),"
        " working_hours = coalesce(excluded.working_hours, tenants.working_hours)",
        what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, row->tenant);
        sg__store_bind_text(st, 2, row->timezone);
        sg__store_bind_text(st, 3, row->working_hours);
        sqlite3_bind_int64(st, 4, row->created);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

int sg__store_tenant_each(struct sg_store *store,
                          int (*fn)(void *ud, const struct sg_tenant_row *row), void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    static const char what[] = "tenants: select";
    int err = 0;
    sg__store_drain(store);
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_TENANT_EACH,
        "SELECT tenant, timezone, working_hours, created FROM tenants ORDER BY tenant", what,
        &err);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        struct sg_tenant_row row = {
            .tenant = (const char *)sqlite3_column_text(st, 0),
            .timezone = (const char *)sqlite3_column_text(st, 1),
            .working_hours = (const char *)sqlite3_column_text(st, 2),
            .created = sqlite3_column_int64(st, 3),
        };
        if (!row.tenant)
            row.tenant = "";
        err = fn(ud, &row);
    }
    if (st)
        sqlite3_reset(st);
    sg__store_unlock(store);
    return err;
}

/* ---- accounts ---- */

int sg__store_account_apply(struct sg_store *store, const struct sg_account_row *row)
{
    if (!store)
        return SG_EINVAL;
    if (!row || !row->tenant || !row->account)
        return sg__store_error(store, SG_EINVAL, "accounts: insert: no tenant or account");
    static const char what[] = "accounts: insert";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_ACCOUNT_PUT,
        "INSERT INTO accounts (tenant, account, email, email_domain, ip, created_at, verified,"
        " posts, status, trust, updated, messages)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT (tenant, account) DO UPDATE SET email = excluded.email,"
        " email_domain = excluded.email_domain, ip = excluded.ip,"
        " created_at = excluded.created_at, verified = excluded.verified,"
        " posts = excluded.posts, status = excluded.status, trust = excluded.trust,"
        " updated = excluded.updated, messages = excluded.messages",
        what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, row->tenant);
        sg__store_bind_text(st, 2, row->account);
        sg__store_bind_text(st, 3, row->email);
        sg__store_bind_text(st, 4, row->email_domain);
        sg__store_bind_text(st, 5, row->ip);
        sqlite3_bind_int64(st, 6, row->created_at);
        sqlite3_bind_int(st, 7, row->verified ? 1 : 0);
        sqlite3_bind_int64(st, 8, row->posts);
        sqlite3_bind_int(st, 9, row->status);
        sqlite3_bind_double(st, 10, row->trust);
        sqlite3_bind_int64(st, 11, row->updated);
        sqlite3_bind_int64(st, 12, row->messages);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

/* Copies column col into the caller's buffer; NULL stays NULL. */
static int copy_text(sqlite3_stmt *st, int col, char **buf, size_t *left, const char **out)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    if (!s) {
        *out = NULL;
        return 0;
    }
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (n + 1 > *left)
        return SG_ETOOBIG;
    memcpy(*buf, s, n);
    (*buf)[n] = '\0';
    *out = *buf;
    *buf += n + 1;
    *left -= n + 1;
    return 0;
}

int sg__store_account_get(struct sg_store *store, const char *tenant, const char *account,
                          struct sg_account_row *out, char *buf, size_t bufsize)
{
    if (!store)
        return SG_EINVAL;
    if (!tenant || !account || !out || (!buf && bufsize))
        return sg__store_error(store, SG_EINVAL, "accounts: select: missing argument");
    static const char what[] = "accounts: select";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_ACCOUNT_GET,
        "SELECT tenant, account, email, email_domain, ip, created_at, verified, posts, status,"
        " trust, updated, messages FROM accounts WHERE tenant = ?1 AND account = ?2",
        what, &err);
    if (st) {
        sg__store_bind_text(st, 1, tenant);
        sg__store_bind_text(st, 2, account);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            err = SG_ENOTFOUND;
        } else if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
        } else {
            struct sg_account_row row;
            memset(&row, 0, sizeof row);
            size_t left = bufsize;
            char *p = buf;
            err = copy_text(st, 0, &p, &left, &row.tenant);
            if (!err)
                err = copy_text(st, 1, &p, &left, &row.account);
            if (!err)
                err = copy_text(st, 2, &p, &left, &row.email);
            if (!err)
                err = copy_text(st, 3, &p, &left, &row.email_domain);
            if (!err)
                err = copy_text(st, 4, &p, &left, &row.ip);
            if (err) {
                sg__store_error(store, err, "accounts: select: %s/%s does not fit in %zu bytes",
                                tenant, account, bufsize);
            } else {
                row.created_at = sqlite3_column_int64(st, 5);
                row.verified = sqlite3_column_int(st, 6) ? 1 : 0;
                int64_t posts = sqlite3_column_int64(st, 7);
                row.posts = posts < 0 ? 0 : posts > UINT32_MAX ? UINT32_MAX : (uint32_t)posts;
                row.status = sqlite3_column_int(st, 8);
                row.trust = sqlite3_column_double(st, 9);
                row.updated = sqlite3_column_int64(st, 10);
                int64_t messages = sqlite3_column_int64(st, 11);
                row.messages = messages < 0            ? 0
                               : messages > UINT32_MAX ? UINT32_MAX
                                                       : (uint32_t)messages;
                *out = row;
            }
        }
        sqlite3_reset(st);
    }
    sg__store_unlock(store);
    return err;
}
