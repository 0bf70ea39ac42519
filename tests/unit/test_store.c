/* The SQLite store: open and migrate (memory and file, WAL, schema versions, foreign files),
 * records round trips (tenants, accounts, lists, verdicts, events, alerts, limiter), batching as
 * seen from a second connection, error messages, and use from several threads. */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sendguard.h"
#include "store/schema.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "support/tmpdir.h"

#define SEC INT64_C(1000000)
#define T0 (INT64_C(1795392000) * SEC) /* 2026-11-23T00:00:00Z */

/* ---- helpers ---- */


static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The store after its writer has applied every queued write (for direct SQL checks). */
static struct sg_store *settled(struct sg_store *s)
{
    sg__store_drain(s);
    return s;
}

static sqlite3 *settled_peer(struct sg_store *s, sqlite3 *peer)
{
    sg__store_drain(s);
    return peer;
}

/* The first column of the first row as text, into buf. */
static const char *query_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *s = sqlite3_column_text(st, 0);
    snprintf(buf, size, "%s", s ? (const char *)s : "(null)");
    sqlite3_finalize(st);
    return buf;
}

/* A second connection, as another process (sendguard lists, an operator's sqlite3) would see
 * the file. */
static sqlite3 *peer_open(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static void put_account(struct sg_store *s, const char *tenant, const char *account)
{
    struct sg_account_row row = {
        .tenant = tenant, .account = account, .email = "a@example.org",
        .email_domain = "example.org", .ip = "192.0.2.7", .created_at = T0, .verified = 1,
        .posts = 3, .status = SG_ACCOUNT_ACTIVE, .trust = 0.25, .updated = T0 + SEC,
    };
    assert_int_equal(sg__store_account_put(s, &row), 0);
}

static void put_verdict(struct sg_store *s, const char *tenant, const char *id, sg_time at,
                        const char *action, const char *json)
{
    static const char *const recipients[] = {"u1", "u2", "u\"3"};
    struct sg_verdict_row row = {
        .id = id, .tenant = tenant, .sender = "spammer", .channel = "private_message", .at = at,
        .action = action, .score = 9.5, .reasons = "URL_DISPLAY_MISMATCH,NEW_ACCOUNT",
        .campaign = "c7f3a1", .template_name = NULL, .ip = "198.51.100.4",
        .recipients = recipients, .nrecipients = 3, .json = json,
    };
    assert_int_equal(sg__store_verdict_put(s, &row, NULL), 0);
}

/* ---- open, schema, files ---- */

static void open_memory(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    assert_non_null(s);
    assert_true(sg__schema_latest() >= 2); /* 1: records, 2: keys, then later features */
    assert_int_equal(query_int(settled(s)->db, "PRAGMA user_version"), sg__schema_latest());
    assert_int_equal(query_int(settled(s)->db, "PRAGMA application_id"), 0x53474431);
    char buf[64];
    assert_string_equal(query_text(settled(s)->db, "PRAGMA journal_mode", buf, sizeof buf), "memory");
    assert_int_equal(query_int(settled(s)->db, "PRAGMA busy_timeout"), 5000);
    /* Every table of migration 1 is there. */
    assert_int_equal(query_int(settled(s)->db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                                      " AND name IN ('meta','tenants','accounts','lists',"
                                      "'verdicts','events','alerts','limiter')"),
                     8);
    int64_t n = -1;
    assert_int_equal(sg__store_verdict_count(s, &n), 0);
    assert_int_equal(n, 0);
    assert_string_equal(sg_store_errmsg(s), "");
    sg_store_close(s);
}

static void open_file_wal_and_reopen(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    char buf[64];
    assert_string_equal(query_text(settled(s)->db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_int_equal(query_int(settled(s)->db, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_int_equal(query_int(settled(s)->db, "PRAGMA user_version"), sg__schema_latest());
    uint64_t seed = sg__store_seed(s);

    struct sg_tenant_row tr = {.tenant = "clinic", .timezone = "Europe/Berlin",
                               .working_hours = "Mon-Fri 08:00-18:00", .created = T0};
    assert_int_equal(sg__store_tenant_put(s, &tr), 0);
    put_account(s, "clinic", "dr-a");
    assert_int_equal(sg_store_list_add(s, "email_domains", "*", "spam.example", 0, T0), 0);
    put_verdict(s, "clinic", "m1", T0, "hold", "{\"id\":\"m1\",\"action\":\"hold\"}");
    sg_store_close(s);

    assert_int_equal(sg_store_open(t->path, &s), 0);
    assert_true(sg__store_seed(s) == seed);
    struct sg_account_row row;
    char abuf[1024];
    assert_int_equal(sg__store_account_get(settled(s), "clinic", "dr-a", &row, abuf, sizeof abuf), 0);
    assert_string_equal(row.email, "a@example.org");
    assert_int_equal(row.posts, 3);
    char *json = NULL;
    assert_int_equal(sg__store_verdict_get(s, "clinic", "m1", &json), 0);
    assert_string_equal(json, "{\"id\":\"m1\",\"action\":\"hold\"}");
    sg_free(json);
    assert_int_equal(sg_store_list_show(s, "email_domains", T0, &json), 0);
    assert_non_null(strstr(json, "\"entry\":\"spam.example\""));
    sg_free(json);
    assert_string_equal(query_text(settled(s)->db, "SELECT timezone FROM tenants WHERE tenant = 'clinic'",
                                   buf, sizeof buf),
                        "Europe/Berlin");
    sg_store_close(s);

    /* Another store gets another seed. */
    struct sg_store *m;
    assert_int_equal(sg_store_open(NULL, &m), 0);
    assert_true(sg__store_seed(m) != seed);
    sg_store_close(m);
}

static void schema_newer_refused(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    put_account(s, "f", "a");
    sg_store_close(s);
    sqlite3 *db = peer_open(t->path);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    s = (struct sg_store *)&s; /* must be reset to NULL */
    assert_int_equal(sg_store_open(t->path, &s), SG_ESCHEMA);
    assert_null(s);
    const char *msg = sg_store_errmsg(NULL);
    char want[96];
    snprintf(want, sizeof want, "schema version 999 is newer than this program's %d", sg__schema_latest());
    assert_non_null(strstr(msg, want));
    assert_non_null(strstr(msg, t->path));
    /* Nothing was changed. */
    db = peer_open(t->path);
    assert_int_equal(query_int(db, "PRAGMA user_version"), 999);
    assert_int_equal(query_int(db, "SELECT count(*) FROM accounts"), 1);
    sqlite3_close(db);
}

static void foreign_database_refused(void **state)
{
    struct tmp *t = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE songs (title TEXT)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), SG_ESTORE);
    assert_null(s);
    assert_non_null(strstr(sg_store_errmsg(NULL), "not a sendguard store"));
    /* Untouched: no tables of ours were added. */
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
    sqlite3_close(db);

    /* A path that cannot be opened. */
    assert_int_equal(sg_store_open("/nonexistent-dir/x/s.db", &s), SG_ESTORE);
    assert_null(s);
    assert_non_null(strstr(sg_store_errmsg(NULL), "/nonexistent-dir/x/s.db"));
}

static void migration_from_empty_file_is_atomic(void **state)
{
    /* Two stores on one new file: the second open sees the first's schema and seed. */
    struct tmp *t = *state;
    struct sg_store *a, *b;
    assert_int_equal(sg_store_open(t->path, &a), 0);
    assert_int_equal(sg_store_open(t->path, &b), 0);
    assert_true(sg__store_seed(a) == sg__store_seed(b));
    assert_int_equal(query_int(settled(b)->db, "SELECT count(*) FROM meta"), 1);
    sg_store_close(a);
    sg_store_close(b);
}

static void close_null_and_bad_args(void **state)
{
    sg_store_close(NULL);
    assert_int_equal(sg_store_flush(NULL), SG_EINVAL);
    assert_int_equal(sg_store_open(NULL, NULL), SG_EINVAL);
    struct sg_store *none = (struct sg_store *)&none;
    assert_int_equal(sg_store_open("", &none), SG_EINVAL);
    assert_null(none);
    assert_non_null(strstr(sg_store_errmsg(NULL), "empty path"));
    assert_non_null(sg_store_errmsg(NULL));
    char *out = NULL;
    assert_int_equal(sg_store_list_show(NULL, NULL, 0, &out), SG_EINVAL);
    assert_int_equal(sg__store_verdict_count(NULL, NULL), SG_EINVAL);
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    struct sg_verdict_row bad = {.id = "m"};
    assert_int_equal(sg__store_verdict_put(s, &bad, NULL), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "verdicts: insert"));
    assert_int_equal(sg__store_event_put(s, "complaint", "t", "m", T0, "{}"), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "complaint"));
    assert_int_equal(sg_store_flush(s), 0);
    sg_store_close(s);
}

/* ---- lists ---- */

static void lists_add_show_remove(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    char *json = NULL;
    assert_int_equal(sg_store_list_show(s, "ips", T0, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);

    /* Normalisation: domains lower-cased without the trailing dot, IPs canonical. */
    assert_int_equal(sg_store_list_add(s, "email_domains", "forum", " Spam-Signups.EXAMPLE. ", 0,
                                       T0), 0);
    assert_int_equal(sg_store_list_add(s, "url_domains", NULL, "Claim-NFT.io", T0 + 3600 * SEC,
                                       T0), 0);
    assert_int_equal(sg_store_list_add(s, "ips", "*", "192.0.2.77/24", 0, T0), 0);
    assert_int_equal(sg_store_list_add(s, "ips", "*", "192.0.2.7", 0, T0), 0);
    assert_int_equal(sg_store_list_add(s, "ips", "*", "2001:DB8:0:0::1/32", 0, T0), 0);
    assert_int_equal(sg_store_list_add(s, "ips", "*", "2001:db8::5", 0, T0), 0);
    assert_int_equal(sg_store_list_add(s, "accounts", "forum", "Spammer-1", 0, T0), 0);

    assert_int_equal(sg_store_list_show(s, "ips", T0, &json), 0);
    assert_string_equal(json,
                        "[{\"list\":\"ips\",\"tenant\":\"*\",\"entry\":\"192.0.2.0/24\","
                        "\"added\":\"2026-11-23T00:00:00Z\",\"expires\":null},"
                        "{\"list\":\"ips\",\"tenant\":\"*\",\"entry\":\"192.0.2.7\","
                        "\"added\":\"2026-11-23T00:00:00Z\",\"expires\":null},"
                        "{\"list\":\"ips\",\"tenant\":\"*\",\"entry\":\"2001:db8::/32\","
                        "\"added\":\"2026-11-23T00:00:00Z\",\"expires\":null},"
                        "{\"list\":\"ips\",\"tenant\":\"*\",\"entry\":\"2001:db8::5\","
                        "\"added\":\"2026-11-23T00:00:00Z\",\"expires\":null}]");
    sg_free(json);
    assert_int_equal(sg_store_list_show(s, "url_domains", T0, &json), 0);
    assert_string_equal(json, "[{\"list\":\"url_domains\",\"tenant\":\"*\","
                              "\"entry\":\"claim-nft.io\",\"added\":\"2026-11-23T00:00:00Z\","
                              "\"expires\":\"2026-11-23T01:00:00Z\"}]");
    sg_free(json);
    /* Account ids are kept as given (platform ids may be case-sensitive). */
    assert_int_equal(sg_store_list_show(s, "accounts", T0, &json), 0);
    assert_non_null(strstr(json, "\"entry\":\"Spammer-1\""));
    sg_free(json);

    /* Expired entries are hidden from show and from list_each. */
    assert_int_equal(sg_store_list_show(s, "url_domains", T0 + 3600 * SEC, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);

    /* Re-adding updates the expiry but keeps "added". */
    assert_int_equal(sg_store_list_add(s, "url_domains", "*", "claim-nft.io.", 0, T0 + 60 * SEC),
                     0);
    assert_int_equal(sg_store_list_show(s, "url_domains", T0 + 7200 * SEC, &json), 0);
    assert_string_equal(json, "[{\"list\":\"url_domains\",\"tenant\":\"*\","
                              "\"entry\":\"claim-nft.io\",\"added\":\"2026-11-23T00:00:00Z\","
                              "\"expires\":null}]");
    sg_free(json);

    /* All lists: ordered by list, each item names its list. */
    assert_int_equal(sg_store_list_show(s, NULL, T0, &json), 0);
    const char *acc = strstr(json, "\"list\":\"accounts\"");
    const char *dom = strstr(json, "\"list\":\"email_domains\"");
    const char *ips = strstr(json, "\"list\":\"ips\"");
    assert_non_null(acc);
    assert_non_null(dom);
    assert_non_null(ips);
    assert_true(acc < dom && dom < ips);
    assert_non_null(strstr(json, "\"tenant\":\"forum\",\"entry\":\"spam-signups.example\""));
    sg_free(json);

    /* Remove matches whatever spelling was used. */
    assert_int_equal(sg_store_list_remove(s, "email_domains", "forum", "SPAM-signups.example."),
                     0);
    assert_int_equal(sg_store_list_remove(s, "email_domains", "forum", "spam-signups.example"),
                     SG_ENOTFOUND);
    assert_non_null(strstr(sg_store_errmsg(s), "not on the list"));
    assert_int_equal(sg_store_list_remove(s, "ips", "*", "192.0.2.1/24"), 0);
    assert_int_equal(sg_store_list_remove(s, "ips", "*", "192.0.2.7/32"), 0);
    /* Per tenant: the global entry is not the tenant's. */
    assert_int_equal(sg_store_list_remove(s, "ips", "forum", "2001:db8::5"), SG_ENOTFOUND);
    assert_int_equal(sg_store_list_show(s, "ips", T0, &json), 0);
    assert_null(strstr(json, "192.0.2"));
    assert_non_null(strstr(json, "2001:db8::5"));
    sg_free(json);
    sg_store_close(s);
}

static void lists_invalid(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    char *json = (char *)"x";
    assert_int_equal(sg_store_list_add(s, "domains", "*", "a.example", 0, T0), SG_EINVAL);
    assert_string_equal(sg_store_errmsg(s), "lists: unknown list \"domains\" (valid: accounts, "
                                            "email_domains, url_domains, ips)");
    assert_int_equal(sg_store_list_show(s, "bogus", T0, &json), SG_EINVAL);
    assert_null(json);
    assert_int_equal(sg_store_list_remove(s, "bogus", "*", "x"), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, NULL, "*", "x", 0, T0), SG_EINVAL);

    assert_int_equal(sg_store_list_add(s, "ips", "*", "999.1.2.3", 0, T0), SG_EINVAL);
    assert_string_equal(sg_store_errmsg(s),
                        "lists: ips: \"999.1.2.3\" is not an IP address or CIDR prefix");
    assert_int_equal(sg_store_list_add(s, "ips", "*", "192.0.2.0/33", 0, T0), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "ips", "*", "example.org", 0, T0), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "email_domains", "*", "", 0, T0), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "email_domains", "*", ".", 0, T0), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "email_domains", "*", "user@example.org", 0, T0),
                     SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "url_domains", "*", "https://x.example/", 0, T0),
                     SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "url_domains", "*", "a..example", 0, T0), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "accounts", "*", "a\nb", 0, T0), SG_EINVAL);
    assert_int_equal(sg_store_list_add(s, "accounts", "", "a", 0, T0), SG_EINVAL);
    /* An expiry that has already passed is a mistake, not a listing. */
    assert_int_equal(sg_store_list_add(s, "accounts", "*", "a", T0, T0), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "expiry"));
    assert_int_equal(sg_store_list_show(s, NULL, T0, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);
    sg_store_close(s);
}

struct each_ctx {
    int n;
    char seen[8][96];
};

static int collect(void *ud, const char *list, const char *tenant, const char *entry,
                   sg_time expires)
{
    struct each_ctx *c = ud;
    if (c->n < 8)
        snprintf(c->seen[c->n], sizeof c->seen[0], "%s|%s|%s|%lld", list, tenant, entry,
                 (long long)(expires / SEC));
    c->n++;
    return 0;
}

static int stop_at_first(void *ud, const char *list, const char *tenant, const char *entry,
                         sg_time expires)
{
    (*(int *)ud)++;
    return 42;
}

static void lists_each_skips_expired(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    assert_int_equal(sg_store_list_add(s, "accounts", "f", "a", 0, T0), 0);
    assert_int_equal(sg_store_list_add(s, "accounts", "f", "b", T0 + 10 * SEC, T0), 0);
    assert_int_equal(sg_store_list_add(s, "ips", "*", "198.51.100.0/24", T0 + 20 * SEC, T0), 0);
    struct each_ctx c = {0};
    assert_int_equal(sg__store_list_each(s, T0 + 10 * SEC, collect, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.seen[0], "accounts|f|a|0");
    char want[96];
    snprintf(want, sizeof want, "ips|*|198.51.100.0/24|%lld", (long long)(T0 / SEC + 20));
    assert_string_equal(c.seen[1], want);
    memset(&c, 0, sizeof c);
    assert_int_equal(sg__store_list_each(s, T0, collect, &c), 0);
    assert_int_equal(c.n, 3);
    int calls = 0;
    assert_int_equal(sg__store_list_each(s, T0, stop_at_first, &calls), 42);
    assert_int_equal(calls, 1);
    /* The statement was reset: iterating again starts over. */
    memset(&c, 0, sizeof c);
    assert_int_equal(sg__store_list_each(s, T0, collect, &c), 0);
    assert_int_equal(c.n, 3);
    sg_store_close(s);
}

/* ---- batching ---- */

static void batching_commits_every_n_writes(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    sg__store_set_batch(s, 3);
    sqlite3 *peer = peer_open(t->path);

    put_account(s, "f", "a1");
    put_account(s, "f", "a2");
    /* Reads on the same connection see the open batch; another connection does not. */
    struct sg_account_row row;
    char buf[1024];
    assert_int_equal(sg__store_account_get(settled(s), "f", "a2", &row, buf, sizeof buf), 0);
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM accounts"), 0);
    put_account(s, "f", "a3"); /* third write: commit */
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM accounts"), 3);
    put_account(s, "f", "a4");
    assert_int_equal(sg_store_list_add(s, "accounts", "f", "a4", 0, T0), 0);
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM accounts"), 3);
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM lists"), 0);
    assert_int_equal(sg_store_flush(s), 0);
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM accounts"), 4);
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM lists"), 1);
    assert_int_equal(sg_store_flush(s), 0); /* nothing pending: a no-op */

    /* Close commits what is pending. */
    put_verdict(s, "f", "m1", T0, "allow", "{}");
    assert_int_equal(query_int(settled_peer(s, peer), "SELECT count(*) FROM verdicts"), 0);
    sg_store_close(s);
    assert_int_equal(query_int(peer, "SELECT count(*) FROM verdicts"), 1);
    sqlite3_close(peer);
}

static void locked_database_reports_sqlite_error(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    sqlite3_busy_timeout(s->db, 20); /* the default 5 s would only slow the test */
    sqlite3 *peer = peer_open(t->path);
    assert_int_equal(sqlite3_exec(peer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct sg_account_row row = {.tenant = "f", .account = "a"};
    /* Writes are queued: the failure comes back from the flush that waits for them. */
    assert_int_equal(sg__store_account_put(s, &row), 0);
    assert_int_equal(sg_store_flush(s), SG_ESTORE);
    assert_string_equal(sg_store_errmsg(s), "accounts: insert: begin: database is locked");
    assert_int_equal(sqlite3_exec(peer, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    /* The lock is gone: the same write now works. */
    assert_int_equal(sg__store_account_put(s, &row), 0);
    assert_int_equal(sg_store_flush(s), 0);
    assert_int_equal(query_int(peer, "SELECT count(*) FROM accounts"), 1);
    sqlite3_close(peer);
    sg_store_close(s);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* A long replay: checkpoints move the data into the database file while the store is open, and
 * the WAL stays bounded instead of holding every write (checkpoint.c). */
static void checkpoints_keep_wal_bounded(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    sg__store_set_batch(s, 100);
    static char json[4001];
    memset(json, 'x', sizeof json - 1);
    for (int i = 0; i < 12000; i++) {
        char id[32];
        snprintf(id, sizeof id, "m%d", i);
        put_verdict(s, "f", id, T0 + i, "allow", json);
    }
    assert_int_equal(sg_store_flush(s), 0);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", t->path);
    long wal_bytes = file_size(wal), db_bytes = file_size(t->path);
    /* ~50 MB written: most of it is in the main file already, and the WAL stays near its
     * 4000-page (16 MB) cap rather than growing to hold all of it. */
    assert_true(db_bytes > 30L << 20);
    assert_true(wal_bytes > 0 && wal_bytes < 32L << 20);
    sqlite3 *peer = peer_open(t->path);
    assert_int_equal(query_int(peer, "SELECT count(*) FROM verdicts"), 12000);
    sqlite3_close(peer);
    sg_store_close(s);
    /* The last close checkpoints and removes the WAL. */
    assert_int_equal(file_size(wal), -1);
}

/* ---- records ---- */

static void account_round_trip(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    struct sg_account_row in = {
        .tenant = "forum", .account = "user-42", .email = "Bob@Example.org",
        .email_domain = "example.org", .ip = "2001:db8::7", .created_at = T0 - 86400 * SEC,
        .verified = 1, .posts = 2, .messages = 9, .status = SG_ACCOUNT_SUSPENDED, .trust = -0.75,
        .updated = T0,
    };
    assert_int_equal(sg__store_account_put(s, &in), 0);
    struct sg_account_row out;
    char buf[1024];
    assert_int_equal(sg__store_account_get(settled(s), "forum", "user-42", &out, buf, sizeof buf), 0);
    assert_string_equal(out.tenant, "forum");
    assert_string_equal(out.account, "user-42");
    assert_string_equal(out.email, "Bob@Example.org");
    assert_string_equal(out.email_domain, "example.org");
    assert_string_equal(out.ip, "2001:db8::7");
    assert_true(out.created_at == T0 - 86400 * SEC);
    assert_int_equal(out.verified, 1);
    assert_int_equal(out.posts, 2);
    assert_int_equal(out.messages, 9);
    assert_int_equal(out.status, SG_ACCOUNT_SUSPENDED);
    assert_true(out.trust == -0.75);
    assert_true(out.updated == T0);
    assert_true(out.email >= buf && out.email < buf + sizeof buf);

    /* Replace: NULL fields stay NULL, counts change. */
    struct sg_account_row upd = {.tenant = "forum", .account = "user-42", .posts = 7,
                                 .status = SG_ACCOUNT_BLOCKED, .updated = T0 + SEC};
    assert_int_equal(sg__store_account_put(s, &upd), 0);
    assert_int_equal(sg__store_account_get(settled(s), "forum", "user-42", &out, buf, sizeof buf), 0);
    assert_null(out.email);
    assert_null(out.email_domain);
    assert_null(out.ip);
    assert_int_equal(out.posts, 7);
    assert_int_equal(out.verified, 0);
    assert_int_equal(out.status, SG_ACCOUNT_BLOCKED);

    /* Too small a buffer: SG_ETOOBIG, and a buffer exactly large enough works. */
    assert_int_equal(sg__store_account_put(s, &in), 0);
    char tiny[16];
    assert_int_equal(sg__store_account_get(settled(s), "forum", "user-42", &out, tiny, sizeof tiny),
                     SG_ETOOBIG);
    assert_non_null(strstr(sg_store_errmsg(s), "forum/user-42"));
    size_t need = strlen("forum") + strlen("user-42") + strlen("Bob@Example.org") +
                  strlen("example.org") + strlen("2001:db8::7") + 5;
    char exact[64];
    assert_true(need <= sizeof exact);
    assert_int_equal(sg__store_account_get(settled(s), "forum", "user-42", &out, exact, need), 0);
    assert_string_equal(out.ip, "2001:db8::7");
    assert_int_equal(sg__store_account_get(settled(s), "forum", "user-42", &out, exact, need - 1),
                     SG_ETOOBIG);

    assert_int_equal(sg__store_account_get(settled(s), "forum", "nobody", &out, buf, sizeof buf),
                     SG_ENOTFOUND);
    assert_int_equal(sg__store_account_get(settled(s), "clinic", "user-42", &out, buf, sizeof buf),
                     SG_ENOTFOUND);
    sg_store_close(s);
}

struct tenant_ctx {
    struct sg_store *store;
    int n;
    char names[4][32];
    char tz[4][32];
    sg_time created[4];
    int nested_found;
};

static int tenant_cb(void *ud, const struct sg_tenant_row *row)
{
    struct tenant_ctx *c = ud;
    if (c->n < 4) {
        snprintf(c->names[c->n], sizeof c->names[0], "%s", row->tenant);
        snprintf(c->tz[c->n], sizeof c->tz[0], "%s", row->timezone ? row->timezone : "-");
        c->created[c->n] = row->created;
    }
    c->n++;
    /* The lock is recursive: a callback may use the store for another record. */
    struct sg_account_row a;
    char buf[1024];
    if (sg__store_account_get(c->store, row->tenant, "a", &a, buf, sizeof buf) == 0)
        c->nested_found++;
    return 0;
}

static void tenants_round_trip(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    struct sg_tenant_row a = {.tenant = "forum", .timezone = "Europe/London",
                              .working_hours = "Mon-Fri 09:00-17:30", .created = T0};
    struct sg_tenant_row b = {.tenant = "clinic", .created = T0 + SEC};
    assert_int_equal(sg__store_tenant_put(s, &a), 0);
    assert_int_equal(sg__store_tenant_put(s, &b), 0);
    /* Re-declared later without a timezone: it and "created" are kept. */
    struct sg_tenant_row a2 = {.tenant = "forum", .working_hours = "Mon-Sat 09:00-17:30",
                               .created = T0 + 99 * SEC};
    assert_int_equal(sg__store_tenant_put(s, &a2), 0);
    put_account(s, "forum", "a");
    struct tenant_ctx c = {.store = s};
    assert_int_equal(sg__store_tenant_each(s, tenant_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.names[0], "clinic");
    assert_string_equal(c.tz[0], "-");
    assert_string_equal(c.names[1], "forum");
    assert_string_equal(c.tz[1], "Europe/London");
    assert_true(c.created[1] == T0);
    assert_int_equal(c.nested_found, 1);
    char buf[64];
    assert_string_equal(query_text(settled(s)->db, "SELECT working_hours FROM tenants WHERE tenant='forum'",
                                   buf, sizeof buf),
                        "Mon-Sat 09:00-17:30");
    sg_store_close(s);
}

static void verdicts_round_trip(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    put_verdict(s, "forum", "m1", T0, "hold", "{\"id\":\"m1\",\"action\":\"hold\"}");
    put_verdict(s, "clinic", "m1", T0, "allow", "{\"id\":\"m1\",\"action\":\"allow\"}");
    /* A later verdict for the same message (a release) is the one returned. */
    put_verdict(s, "forum", "m1", T0 + 60 * SEC, "allow", "{\"id\":\"m1\",\"action\":\"released\"}");
    char *json = NULL;
    assert_int_equal(sg__store_verdict_get(s, "forum", "m1", &json), 0);
    assert_string_equal(json, "{\"id\":\"m1\",\"action\":\"released\"}");
    sg_free(json);
    assert_int_equal(sg__store_verdict_get(s, "clinic", "m1", &json), 0);
    assert_string_equal(json, "{\"id\":\"m1\",\"action\":\"allow\"}");
    sg_free(json);
    json = (char *)"x";
    assert_int_equal(sg__store_verdict_get(s, "forum", "m2", &json), SG_ENOTFOUND);
    assert_null(json);
    int64_t n = 0;
    assert_int_equal(sg__store_verdict_count(s, &n), 0);
    assert_int_equal(n, 3);

    /* The stored columns, and "who received campaign c7f3a1 in forum" as one query. */
    char buf[256];
    assert_string_equal(query_text(settled(s)->db, "SELECT recipients FROM verdicts WHERE verdict = 1", buf,
                                   sizeof buf),
                        "[\"u1\",\"u2\",\"u\\\"3\"]");
    assert_string_equal(query_text(settled(s)->db, "SELECT reasons FROM verdicts WHERE verdict = 1", buf,
                                   sizeof buf),
                        "URL_DISPLAY_MISMATCH,NEW_ACCOUNT");
    assert_string_equal(query_text(settled(s)->db, "SELECT group_concat(value, '|') FROM (SELECT DISTINCT"
                                          " r.value FROM verdicts v, json_each(v.recipients) r"
                                          " WHERE v.tenant = 'forum' AND v.campaign = 'c7f3a1'"
                                          " ORDER BY 1)",
                                   buf, sizeof buf),
                        "u\"3|u1|u2");
    assert_int_equal(query_int(settled(s)->db, "SELECT template IS NULL FROM verdicts WHERE verdict = 1"), 1);

    /* No recipients is an empty array. */
    struct sg_verdict_row none = {.id = "m9", .tenant = "forum", .sender = "a", .channel = "post",
                                  .at = T0, .action = "allow", .json = "{}"};
    assert_int_equal(sg__store_verdict_put(s, &none, NULL), 0);
    assert_string_equal(query_text(settled(s)->db, "SELECT recipients || reasons FROM verdicts"
                                          " WHERE id = 'm9'", buf, sizeof buf),
                        "[]");
    sg_store_close(s);
}

static void events_and_alerts(void **state)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    assert_int_equal(sg__store_event_put(s, "report", "forum", "m1", T0, "{\"type\":\"report\"}"),
                     0);
    assert_int_equal(sg__store_event_put(s, "review", "forum", "m1", T0 + SEC,
                                         "{\"type\":\"review\"}"), 0);
    assert_int_equal(query_int(settled(s)->db, "SELECT count(*) FROM events WHERE tenant = 'forum'"
                                      " AND message = 'm1'"), 2);

    char *json = NULL;
    assert_int_equal(sg__store_alert_list(s, NULL, 0, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);
    /* Written out of order; listed oldest first. */
    assert_int_equal(sg__store_alert_put(s, "forum", "cohort_flagged", T0 + 20 * SEC,
                                         "{\"kind\":\"cohort_flagged\",\"n\":2}"), 0);
    assert_int_equal(sg__store_alert_put(s, "forum", "sender_suspended", T0 + 10 * SEC,
                                         "{\"kind\":\"sender_suspended\",\"n\":1}"), 0);
    assert_int_equal(sg__store_alert_put(s, "clinic", "tenant_paused", T0 + 15 * SEC,
                                         "{\"kind\":\"tenant_paused\"}"), 0);
    assert_int_equal(sg__store_alert_put(s, NULL, "auth_abuse", T0 + 30 * SEC,
                                         "{\"kind\":\"auth_abuse\"}"), 0);
    assert_int_equal(sg__store_alert_list(s, "forum", 0, &json), 0);
    assert_string_equal(json, "[{\"kind\":\"sender_suspended\",\"n\":1},"
                              "{\"kind\":\"cohort_flagged\",\"n\":2}]");
    sg_free(json);
    assert_int_equal(sg__store_alert_list(s, "forum", T0 + 11 * SEC, &json), 0);
    assert_string_equal(json, "[{\"kind\":\"cohort_flagged\",\"n\":2}]");
    sg_free(json);
    assert_int_equal(sg__store_alert_list(s, "forum", T0 + 20 * SEC, &json), 0); /* since is >= */
    assert_string_equal(json, "[{\"kind\":\"cohort_flagged\",\"n\":2}]");
    sg_free(json);
    assert_int_equal(sg__store_alert_list(s, NULL, T0 + 12 * SEC, &json), 0);
    assert_string_equal(json, "[{\"kind\":\"tenant_paused\"},{\"kind\":\"cohort_flagged\",\"n\":2},"
                              "{\"kind\":\"auth_abuse\"}]");
    sg_free(json);
    assert_int_equal(sg__store_alert_list(s, "nobody", 0, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);
    sg_store_close(s);
}

struct limiter_ctx {
    int n;
    uint64_t keys[4];
    int64_t tat[4][4];
    size_t ntat[4];
};

static int limiter_cb(void *ud, uint64_t key, const int64_t *tat, size_t n)
{
    struct limiter_ctx *c = ud;
    if (c->n < 4) {
        c->keys[c->n] = key;
        c->ntat[c->n] = n;
        memcpy(c->tat[c->n], tat, (n < 4 ? n : 4) * sizeof *tat);
    }
    c->n++;
    return 0;
}

static int limiter_stop(void *ud, uint64_t key, const int64_t *tat, size_t n) { return -77; }

static void limiter_round_trip(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    const int64_t a[4] = {T0, T0 + 5 * SEC, 0, -1};
    const int64_t b[2] = {INT64_MAX, INT64_MIN};
    assert_int_equal(sg__store_limiter_put(s, UINT64_C(0xfedcba9876543210), a, 4), 0);
    assert_int_equal(sg__store_limiter_put(s, 7, b, 2), 0);
    assert_int_equal(sg__store_limiter_put(s, 8, NULL, 0), 0);
    assert_int_equal(sg__store_limiter_put(s, 9, a, 65), SG_EINVAL);
    sg_store_close(s);

    assert_int_equal(sg_store_open(t->path, &s), 0);
    struct limiter_ctx c = {0};
    assert_int_equal(sg__store_limiter_load(s, limiter_cb, &c), 0);
    assert_int_equal(c.n, 3);
    /* Ordered by the signed key: the high-bit key first. */
    assert_true(c.keys[0] == UINT64_C(0xfedcba9876543210));
    assert_int_equal(c.ntat[0], 4);
    assert_memory_equal(c.tat[0], a, sizeof a);
    assert_true(c.keys[1] == 7);
    assert_int_equal(c.ntat[1], 2);
    assert_true(c.tat[1][0] == INT64_MAX && c.tat[1][1] == INT64_MIN);
    assert_true(c.keys[2] == 8);
    assert_int_equal(c.ntat[2], 0);
    assert_int_equal(sg__store_limiter_load(s, limiter_stop, NULL), -77);

    /* Saving again: clear, then put (a replaced key keeps one row). */
    assert_int_equal(sg__store_limiter_clear(s), 0);
    assert_int_equal(sg__store_limiter_put(s, 7, a, 1), 0);
    assert_int_equal(sg__store_limiter_put(s, 7, a, 2), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(sg__store_limiter_load(s, limiter_cb, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.ntat[0], 2);
    assert_true(c.tat[0][1] == T0 + 5 * SEC);

    /* A damaged row is reported, not misread. */
    assert_int_equal(sqlite3_exec(s->db, "INSERT INTO limiter VALUES (1, x'0102')", NULL, NULL,
                                  NULL), SQLITE_OK);
    assert_int_equal(sg__store_limiter_load(s, limiter_cb, &c), SG_ESTORE);
    assert_non_null(strstr(sg_store_errmsg(s), "malformed"));
    sg_store_close(s);
}

/* ---- threads ---- */

struct thread_arg {
    struct sg_store *store;
    int id;
};

static void *writer(void *p)
{
    struct thread_arg *a = p;
    for (int i = 0; i < 300; i++) {
        char id[32];
        snprintf(id, sizeof id, "t%d-m%d", a->id, i);
        const char *rcpt[] = {"x", "y"};
        struct sg_verdict_row row = {.id = id, .tenant = "f", .sender = "s",
                                     .channel = "email", .at = T0 + i, .action = "allow",
                                     .recipients = rcpt, .nrecipients = 2, .json = "{}"};
        if (sg__store_verdict_put(a->store, &row, NULL) != 0)
            return (void *)1;
        char *json;
        if (sg__store_verdict_get(a->store, "f", id, &json) != 0)
            return (void *)1;
        sg_free(json);
        if (i % 50 == 0 && sg_store_flush(a->store) != 0)
            return (void *)1;
    }
    return NULL;
}

static void threads_share_a_store(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    sg__store_set_batch(s, 64);
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){s, i};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    int64_t n = 0;
    assert_int_equal(sg__store_verdict_count(s, &n), 0);
    assert_int_equal(n, 1200);
    sg_store_close(s);
}

static int count_key(void *ud, uint64_t key)
{
    uint64_t *sum = ud;
    sum[0]++;
    sum[1] ^= key;
    return 0;
}

static void seen_domains_round_trip(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    uint64_t keys[3] = {UINT64_MAX, 1, 0x8000000000000000ull}; /* signed-integer edges */
    const char *domains[3] = {"claim-nft.io", "bit.ly", "example.co.uk"};
    assert_int_equal(sg__store_seen_domains_put(s, "clinic", T0, keys, domains, 3), 0);
    assert_int_equal(sg__store_seen_domains_put(s, "clinic", T0 + SEC, keys, domains, 1), 0); /* kept */
    assert_int_equal(sg__store_seen_domains_put(s, "clinic", T0, keys, domains, 0), 0);
    assert_int_equal(sg__store_seen_domains_put(s, NULL, T0, keys, domains, 1), SG_EINVAL);
    assert_int_equal(sg_store_flush(s), 0);
    sg_store_close(s);
    assert_int_equal(sg_store_open(t->path, &s), 0);
    uint64_t sum[2] = {0, 0};
    assert_int_equal(sg__store_seen_domains_each(s, count_key, sum), 0);
    assert_int_equal(sum[0], 3);
    assert_true(sum[1] == (keys[0] ^ keys[1] ^ keys[2]));
    assert_int_equal(query_int(settled(s)->db, "SELECT first_seen FROM seen_domains"
                                                 " WHERE domain = 'claim-nft.io'"), T0);
    sg_store_close(s);
}

/* Migration 4 adds accounts.messages and fills it from the allowed verdicts already stored. */
static void migration_4_counts_delivered_messages(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    struct sg_account_row acct = {.tenant = "forum", .account = "a", .updated = T0};
    assert_int_equal(sg__store_account_put(s, &acct), 0);
    acct.account = "quiet";
    assert_int_equal(sg__store_account_put(s, &acct), 0);
    const char *actions[] = {"allow", "allow", "hold", "reject", "allow"};
    const char *senders[] = {"a", "a", "a", "quiet", "other-tenant"};
    for (int i = 0; i < 5; i++) {
        const char *rcpt[] = {"u1"};
        struct sg_verdict_row v = {
            .id = "m", .tenant = i == 4 ? "clinic" : "forum", .sender = i == 4 ? "a" : senders[i],
            .channel = "email", .at = T0, .action = actions[i], .reasons = "", .recipients = rcpt,
            .nrecipients = 1, .json = "{}",
        };
        assert_int_equal(sg__store_verdict_put(s, &v, NULL), 0);
    }
    assert_int_equal(sg_store_flush(s), 0);
    sg_store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE seen_domains; ALTER TABLE accounts DROP COLUMN messages;"
                                      " ALTER TABLE verdicts DROP COLUMN url_domains; DROP TABLE bayes_learned;"
                                      " DROP TABLE bayes_snapshots; ALTER TABLE bayes_scopes DROP COLUMN generation;"
                                      " PRAGMA user_version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sg_store_open(t->path, &s), 0);
    char buf[1024];
    struct sg_account_row out;
    assert_int_equal(sg__store_account_get(s, "forum", "a", &out, buf, sizeof buf), 0);
    assert_int_equal(out.messages, 2); /* the hold does not count, nor clinic's "a" */
    assert_int_equal(sg__store_account_get(s, "forum", "quiet", &out, buf, sizeof buf), 0);
    assert_int_equal(out.messages, 0);
    assert_int_equal(query_int(settled(s)->db, "SELECT count(*) FROM verdicts WHERE url_domains = '[]'"), 5);
    sg_store_close(s);
}

#define FILE_TEST(fn) cmocka_unit_test_setup_teardown(fn, tmp_setup, tmp_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_memory),
        FILE_TEST(open_file_wal_and_reopen),
        FILE_TEST(schema_newer_refused),
        FILE_TEST(foreign_database_refused),
        FILE_TEST(migration_from_empty_file_is_atomic),
        cmocka_unit_test(close_null_and_bad_args),
        cmocka_unit_test(lists_add_show_remove),
        cmocka_unit_test(lists_invalid),
        cmocka_unit_test(lists_each_skips_expired),
        FILE_TEST(batching_commits_every_n_writes),
        FILE_TEST(locked_database_reports_sqlite_error),
        FILE_TEST(checkpoints_keep_wal_bounded),
        cmocka_unit_test(account_round_trip),
        cmocka_unit_test(tenants_round_trip),
        cmocka_unit_test(verdicts_round_trip),
        cmocka_unit_test(events_and_alerts),
        FILE_TEST(limiter_round_trip),
        FILE_TEST(threads_share_a_store),
        FILE_TEST(seen_domains_round_trip),
        FILE_TEST(migration_4_counts_delivered_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
