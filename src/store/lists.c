/* Block lists (accounts, email domains, URL domains, IP prefixes), per tenant or for all ("*"),
 * with optional expiry. Entries are normalised on the way in so that the engine's lookups and an
 * operator's remove match whatever spelling was used to add them. */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"
#include "util/cidr.h"
#include "util/strbuf.h"

#define SG_LIST_ENTRY_MAX 1000

static const char *const list_names[] = {"accounts", "email_domains", "url_domains", "ips"};
enum { LIST_ACCOUNTS, LIST_EMAIL_DOMAINS, LIST_URL_DOMAINS, LIST_IPS, LIST_COUNT };

static int list_index(struct sg_store *store, const char *list)
{
    for (int i = 0; list && i < LIST_COUNT; i++)
        if (strcmp(list, list_names[i]) == 0)
            return i;
    return sg__store_error(store, SG_EINVAL,
                           "lists: unknown list \"%s\" (valid: accounts, email_domains, "
                           "url_domains, ips)", list ? list : "(null)");
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Writes the canonical form of entry into out (size SG_LIST_ENTRY_MAX + 1):
 * - accounts: the id as given (surrounding blanks dropped);
 * - domains: lower-case ASCII, one trailing dot removed ("Example.COM." -> "example.com");
 * - ips: via sg__cidr_parse/sg__cidr_format ("192.0.2.9/24" -> "192.0.2.0/24"); a single host
 *   is kept in host form ("192.0.2.7", "2001:db8::1"), as that is how operators write it. */
static int normalise(struct sg_store *store, int list, const char *entry, char *out)
{
    const char *name = list_names[list];
    if (!entry)
        return sg__store_error(store, SG_EINVAL, "lists: %s: no entry", name);
    size_t n = strlen(entry);
    while (n && is_space(entry[0])) {
        entry++;
        n--;
    }
    while (n && is_space(entry[n - 1]))
        n--;
    if (n == 0)
        return sg__store_error(store, SG_EINVAL, "lists: %s: empty entry", name);
    if (n > SG_LIST_ENTRY_MAX)
        return sg__store_error(store, SG_EINVAL, "lists: %s: entry longer than %d bytes", name,
                               SG_LIST_ENTRY_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)entry[i] < 0x20 || entry[i] == 0x7f)
            return sg__store_error(store, SG_EINVAL, "lists: %s: entry has a control character",
                                   name);

    if (list == LIST_ACCOUNTS) {
        memcpy(out, entry, n);
        out[n] = '\0';
        return 0;
    }
    if (list == LIST_IPS) {
        struct sg_cidr c;
        if (sg__cidr_parse(entry, n, &c) != 0)
            return sg__store_error(store, SG_EINVAL,
                                   "lists: ips: \"%.*s\" is not an IP address or CIDR prefix",
                                   (int)n, entry);
        sg__cidr_format(&c, out, SG_LIST_ENTRY_MAX + 1);
        if (c.bits == 128) {
            char *slash = strchr(out, '/');
            if (slash)
                *slash = '\0';
        }
        return 0;
    }
    /* A domain. */
    if (entry[n - 1] == '.')
        n--;
    if (n == 0)
        return sg__store_error(store, SG_EINVAL, "lists: %s: empty domain", name);
    for (size_t i = 0; i < n; i++) {
        char c = entry[i];
        if (is_space(c) || c == '/' || c == '@' || c == ':' || c == '\\' ||
            (c == '.' && (i == 0 || i == n - 1 || entry[i - 1] == '.')))
            return sg__store_error(store, SG_EINVAL,
                                   "lists: %s: \"%.*s\" is not a domain name", name, (int)n,
                                   entry);
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return 0;
}

static int check_tenant(struct sg_store *store, const char *tenant)
{
    if (tenant && !*tenant)
        return sg__store_error(store, SG_EINVAL, "lists: empty tenant (use \"*\" for all)");
    return 0;
}

int sg_store_list_add(struct sg_store *store, const char *list, const char *tenant,
                      const char *entry, sg_time expires, sg_time now)
{
    if (!store)
        return SG_EINVAL;
    static const char what[] = "lists: insert";
    char canon[SG_LIST_ENTRY_MAX + 1];
    int err = 0;
    sg__store_lock(store);
    int idx = list_index(store, list);
    if (idx < 0)
        err = idx;
    if (!err)
        err = check_tenant(store, tenant);
    if (!err)
        err = normalise(store, idx, entry, canon);
    if (!err && (expires < 0 || (expires != 0 && expires <= now)))
        err = sg__store_error(store, SG_EINVAL,
                              "lists: %s: %s: expiry is not after now (0 means never)",
                              list_names[idx], canon);
    sqlite3_stmt *st = NULL;
    if (!err)
        /* Re-adding keeps the first "added" unless the old entry had already expired, in
         * which case this is a new listing. */
        st = sg__store_stmt(
            store, SG_STMT_LIST_ADD,
            "INSERT INTO lists (list, tenant, entry, added, expires) VALUES (?1, ?2, ?3, ?4, ?5)"
            " ON CONFLICT (list, tenant, entry) DO UPDATE SET"
            " added = CASE WHEN lists.expires != 0 AND lists.expires <= excluded.added"
            " THEN excluded.added ELSE lists.added END,"
            " expires = excluded.expires",
            what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, list_names[idx]);
        sg__store_bind_text(st, 2, tenant ? tenant : "*");
        sg__store_bind_text(st, 3, canon);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, expires);
        err = sg__store_step_write(store, st, what);
    }
    sg__store_unlock(store);
    return err;
}

int sg_store_list_remove(struct sg_store *store, const char *list, const char *tenant,
                         const char *entry)
{
    if (!store)
        return SG_EINVAL;
    static const char what[] = "lists: delete";
    char canon[SG_LIST_ENTRY_MAX + 1];
    int err = 0;
    sg__store_lock(store);
    int idx = list_index(store, list);
    if (idx < 0)
        err = idx;
    if (!err)
        err = check_tenant(store, tenant);
    if (!err)
        err = normalise(store, idx, entry, canon);
    sqlite3_stmt *st = NULL;
    if (!err)
        st = sg__store_stmt(store, SG_STMT_LIST_REMOVE,
                            "DELETE FROM lists WHERE list = ?1 AND tenant = ?2 AND entry = ?3",
                            what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, list_names[idx]);
        sg__store_bind_text(st, 2, tenant ? tenant : "*");
        sg__store_bind_text(st, 3, canon);
        int rc = sqlite3_step(st);
        err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
        sqlite3_reset(st);
        if (!err && sqlite3_changes(store->db) == 0)
            err = sg__store_error(store, SG_ENOTFOUND, "lists: %s: %s is not on the list for %s",
                                  list_names[idx], canon, tenant ? tenant : "*");
        else if (!err)
            err = sg__store_write_done(store, what);
    }
    sg__store_unlock(store);
    return err;
}

int sg__store_list_each(struct sg_store *store, sg_time now,
                        int (*fn)(void *ud, const char *list, const char *tenant,
                                  const char *entry, sg_time expires),
                        void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    static const char what[] = "lists: select";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = sg__store_stmt(
        store, SG_STMT_LIST_EACH,
        "SELECT list, tenant, entry, expires FROM lists WHERE expires = 0 OR expires > ?1"
        " ORDER BY list, tenant, entry",
        what, &err);
    if (st)
        sqlite3_bind_int64(st, 1, now);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        const char *l = (const char *)sqlite3_column_text(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        const char *e = (const char *)sqlite3_column_text(st, 2);
        err = fn(ud, l ? l : "", t ? t : "*", e ? e : "", sqlite3_column_int64(st, 3));
    }
    if (st)
        sqlite3_reset(st);
    sg__store_unlock(store);
    return err;
}

static void json_time(struct sg_strbuf *sb, sg_time t)
{
    char buf[21];
    sg_time_format(t, buf);
    sg__sb_json_cstr(sb, buf);
}

int sg_store_list_show(struct sg_store *store, const char *list, sg_time now, char **out)
{
    if (!store)
        return SG_EINVAL;
    if (!out)
        return sg__store_error(store, SG_EINVAL, "lists: show: no place for the result");
    *out = NULL;
    static const char what[] = "lists: select";
    int err = 0;
    sg__store_lock(store);
    int idx = list ? list_index(store, list) : 0;
    if (idx < 0)
        err = idx;
    sqlite3_stmt *st = NULL;
    if (!err && list)
        st = sg__store_stmt(store, SG_STMT_LIST_SHOW,
                            "SELECT list, tenant, entry, added, expires FROM lists"
                            " WHERE list = ?1 AND (expires = 0 OR expires > ?2)"
                            " ORDER BY tenant, entry",
                            what, &err);
    else if (!err)
        st = sg__store_stmt(store, SG_STMT_LIST_SHOW_ALL,
                            "SELECT list, tenant, entry, added, expires FROM lists"
                            " WHERE ?1 IS NULL AND (expires = 0 OR expires > ?2)"
                            " ORDER BY list, tenant, entry",
                            what, &err);
    struct sg_strbuf sb;
    sg__sb_init(&sb, 0);
    if (st) {
        sg__store_bind_text(st, 1, list ? list_names[idx] : NULL);
        sqlite3_bind_int64(st, 2, now);
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
            sg__sb_addc(&sb, '{');
            sg__sb_json_key(&sb, "list");
            sg__sb_json_cstr(&sb, (const char *)sqlite3_column_text(st, 0));
            sg__sb_json_key(&sb, "tenant");
            sg__sb_json_cstr(&sb, (const char *)sqlite3_column_text(st, 1));
            sg__sb_json_key(&sb, "entry");
            sg__sb_json_cstr(&sb, (const char *)sqlite3_column_text(st, 2));
            sg__sb_json_key(&sb, "added");
            json_time(&sb, sqlite3_column_int64(st, 3));
            sg__sb_json_key(&sb, "expires");
            sg_time expires = sqlite3_column_int64(st, 4);
            if (expires)
                json_time(&sb, expires);
            else
                sg__sb_adds(&sb, "null");
            sg__sb_addc(&sb, '}');
        }
        sg__sb_addc(&sb, ']');
        sqlite3_reset(st);
    }
    if (!err) {
        *out = sg__sb_steal(&sb);
        if (!*out)
            err = sg__store_error(store, SG_ENOMEM, "lists: show: out of memory");
    }
    sg__sb_release(&sb);
    sg__store_unlock(store);
    return err;
}
