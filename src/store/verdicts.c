/* Message verdicts, one row each, kept so that "who received what" can be answered after an
 * incident: by tenant and time, sender, campaign, template or message id (see schema.c for the
 * indexes, and for why recipients are one JSON array per row). */
#include <string.h>

#include "store/store_internal.h"
#include "util/alloc.h"

int sg__store_verdict_apply(struct sg_store *store, const struct sg_verdict_row *row)
{
    /* The row was checked before it was queued (queue.c). */
    static const char what[] = "verdicts: insert";
    int err = 0;
    sg__store_lock(store);
    struct sg_strbuf *sb = &store->scratch;
    sg__sb_clear(sb);
    sg__sb_addc(sb, '[');
    for (size_t i = 0; i < row->nrecipients; i++) {
        if (i)
            sg__sb_addc(sb, ',');
        sg__sb_json_cstr(sb, row->recipients[i]);
    }
    sg__sb_addc(sb, ']');
    /* The link domains follow in the same buffer: one reused allocation for both arrays. */
    size_t domains_at = sb->len;
    sg__sb_addc(sb, '[');
    for (size_t i = 0; i < row->nurl_domains; i++) {
        if (i)
            sg__sb_addc(sb, ',');
        sg__sb_json_cstr(sb, row->url_domains[i]);
    }
    sg__sb_addc(sb, ']');
    if (sb->failed)
        err = sg__store_error(store, SG_ETOOBIG, "verdicts: insert: %s: too many recipients or link domains",
                              row->id);
    sqlite3_stmt *st = NULL;
    if (!err)
        st = sg__store_stmt(
            store, SG_STMT_VERDICT_PUT,
            "INSERT INTO verdicts (id, tenant, at, sender, channel, action, score, reasons,"
            " campaign, template, ip, recipients, json, tenant_key, id_key, sender_key,"
            " campaign_key, template_key, url_domains)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
            " ?17, ?18, ?19)",
            what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, row->id);
        sg__store_bind_text(st, 2, row->tenant);
        sqlite3_bind_int64(st, 3, row->at);
        sg__store_bind_text(st, 4, row->sender);
        sg__store_bind_text(st, 5, row->channel);
        sg__store_bind_text(st, 6, row->action);
        sqlite3_bind_double(st, 7, row->score);
        sg__store_bind_text(st, 8, row->reasons ? row->reasons : "");
        sg__store_bind_text(st, 9, row->campaign);
        sg__store_bind_text(st, 10, row->template_name);
        sg__store_bind_text(st, 11, row->ip);
        sqlite3_bind_text(st, 12, sb->p, (int)domains_at, SQLITE_STATIC);
        sqlite3_bind_text(st, 19, sb->p + domains_at, (int)(sb->len - domains_at),
                          SQLITE_STATIC);
        sg__store_bind_text(st, 13, row->json);
        sqlite3_bind_int64(st, 14, sg__store_key(store, row->tenant, NULL));
        sqlite3_bind_int64(st, 15, sg__store_key(store, row->tenant, row->id));
        sqlite3_bind_int64(st, 16, sg__store_key(store, row->tenant, row->sender));
        if (row->campaign)
            sqlite3_bind_int64(st, 17, sg__store_key(store, row->tenant, row->campaign));
        else
            sqlite3_bind_null(st, 17);
        if (row->template_name)
            sqlite3_bind_int64(st, 18, sg__store_key(store, row->tenant, row->template_name));
        else
            sqlite3_bind_null(st, 18);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

int sg__store_verdict_get(struct sg_store *store, const char *tenant, const char *id, char **json)
{
    if (!store)
        return SG_EINVAL;
    if (!tenant || !id || !json)
        return sg__store_error(store, SG_EINVAL, "verdicts: select: missing argument");
    *json = NULL;
    static const char what[] = "verdicts: select";
    int err = 0;
    sg__store_drain(store);
    sg__store_lock(store);
    /* Latest = last written: a release or reject after a hold adds a row for the same id. */
    sqlite3_stmt *st = sg__store_stmt(store, SG_STMT_VERDICT_GET,
                                      "SELECT json FROM verdicts WHERE id_key = ?3"
                                      " AND tenant = ?1 AND id = ?2"
                                      " ORDER BY verdict DESC LIMIT 1",
                                      what, &err);
    if (st) {
        sg__store_bind_text(st, 1, tenant);
        sg__store_bind_text(st, 2, id);
        sqlite3_bind_int64(st, 3, sg__store_key(store, tenant, id));
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            *json = sg__strndup(s ? s : "", (size_t)sqlite3_column_bytes(st, 0));
            if (!*json)
                err = sg__store_error(store, SG_ENOMEM, "verdicts: select: out of memory");
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

int sg__store_verdict_count(struct sg_store *store, int64_t *out)
{
    if (!store || !out)
        return SG_EINVAL;
    static const char what[] = "verdicts: count";
    int err = 0;
    sg__store_drain(store);
    sg__store_lock(store);
    sqlite3_stmt *st =
        sg__store_stmt(store, SG_STMT_VERDICT_COUNT, "SELECT count(*) FROM verdicts", what, &err);
    if (st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        else
            err = sg__store_fail(store, what, rc);
        sqlite3_reset(st);
    }
    sg__store_unlock(store);
    return err;
}
