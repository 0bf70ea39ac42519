/* The schema as an ordered list of migrations: migrations[i] takes a database from version i to
 * i + 1. Never edit a shipped step; add the next one (ALTER TABLE, CREATE INDEX ...) at the end
 * and every existing store is brought forward on its next open. */
#include "store/schema.h"

#include <stdio.h>

#include "sendguard.h"

/* "SGD1" in PRAGMA application_id marks the file as ours, so that pointing --db at some other
 * SQLite database fails instead of adding our tables to it. */
#define SG_APPLICATION_ID 0x53474431

static const char *const migrations[] = {
    /* 1: the first schema.
     * Recipients are one JSON array per verdict, not a row each: measured on 100k verdicts, a
     * row-per-recipient table indexed on verdict and on recipient made a verdict write two to
     * three times as costly, while "who received what" (verdicts by tenant and
     * sender/campaign/template/time, then their recipients) stays one indexed query with
     * json_each(recipients). The reverse, what one recipient got, scans a tenant's verdicts;
     * it is rare (a complaint) and fine so.
     * No foreign keys: every row is written by the engine, and checks would cost each insert. */
    "CREATE TABLE meta (\n"
    "    key   TEXT PRIMARY KEY,\n"
    "    value\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE tenants (\n"
    "    tenant        TEXT PRIMARY KEY,\n"
    "    timezone      TEXT,\n"
    "    working_hours TEXT,\n"
    "    created       INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE accounts (\n"
    "    tenant       TEXT NOT NULL,\n"
    "    account      TEXT NOT NULL,\n"
    "    email        TEXT,\n"
    "    email_domain TEXT,\n"
    "    ip           TEXT,\n"
    "    created_at   INTEGER NOT NULL,\n"
    "    verified     INTEGER NOT NULL,\n"
    "    posts        INTEGER NOT NULL,\n"
    "    status       INTEGER NOT NULL,\n"
    "    trust        REAL NOT NULL,\n"
    "    updated      INTEGER NOT NULL,\n"
    "    PRIMARY KEY (tenant, account)\n"
    ") WITHOUT ROWID;\n"
    /* expires 0 means never; tenant '*' applies to every tenant. */
    "CREATE TABLE lists (\n"
    "    list    TEXT NOT NULL,\n"
    "    tenant  TEXT NOT NULL,\n"
    "    entry   TEXT NOT NULL,\n"
    "    added   INTEGER NOT NULL,\n"
    "    expires INTEGER NOT NULL DEFAULT 0,\n"
    "    PRIMARY KEY (list, tenant, entry)\n"
    ") WITHOUT ROWID;\n"
    /* Times are sg_time (µs since the epoch, UTC). reasons: codes, comma-separated.
     * The *_key columns are 64-bit hashes of (tenant, value) under the store's seed
     * (sg__store_key): the indexes are on them rather than on the text, because comparing
     * integers instead of (tenant, text) pairs halved the cost of a verdict write (measured:
     * 7.9 -> 4 us in memory). Queries match the key and then the text, so a collision can only
     * cost a row read, never a wrong answer. */
    "CREATE TABLE verdicts (\n"
    "    verdict      INTEGER PRIMARY KEY,\n"
    "    id           TEXT NOT NULL,\n"
    "    tenant       TEXT NOT NULL,\n"
    "    at           INTEGER NOT NULL,\n"
    "    sender       TEXT NOT NULL,\n"
    "    channel      TEXT NOT NULL,\n"
    "    action       TEXT NOT NULL,\n"
    "    score        REAL NOT NULL,\n"
    "    reasons      TEXT NOT NULL,\n"
    "    campaign     TEXT,\n"
    "    template     TEXT,\n"
    "    ip           TEXT,\n"
    "    recipients   TEXT NOT NULL,\n"
    "    json         TEXT NOT NULL,\n"
    "    tenant_key   INTEGER NOT NULL,\n"
    "    id_key       INTEGER NOT NULL,\n"
    "    sender_key   INTEGER NOT NULL,\n"
    "    campaign_key INTEGER,\n"
    "    template_key INTEGER\n"
    ");\n"
    "CREATE INDEX verdicts_tenant_at ON verdicts (tenant_key, at);\n"
    "CREATE INDEX verdicts_id ON verdicts (id_key);\n"
    "CREATE INDEX verdicts_sender ON verdicts (sender_key, at);\n"
    "CREATE INDEX verdicts_campaign ON verdicts (campaign_key, at)\n"
    "    WHERE campaign_key IS NOT NULL;\n"
    "CREATE INDEX verdicts_template ON verdicts (template_key, at)\n"
    "    WHERE template_key IS NOT NULL;\n"
    /* kind: 'report' or 'review'; message: the message id reported or reviewed. */
    "CREATE TABLE events (\n"
    "    event   INTEGER PRIMARY KEY,\n"
    "    kind    TEXT NOT NULL,\n"
    "    tenant  TEXT NOT NULL,\n"
    "    message TEXT NOT NULL,\n"
    "    at      INTEGER NOT NULL,\n"
    "    json    TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX events_tenant_message ON events (tenant, message);\n"
    /* tenant NULL: a platform-wide alert (auth_abuse). */
    "CREATE TABLE alerts (\n"
    "    alert  INTEGER PRIMARY KEY,\n"
    "    tenant TEXT,\n"
    "    kind   TEXT NOT NULL,\n"
    "    at     INTEGER NOT NULL,\n"
    "    json   TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX alerts_tenant_at ON alerts (tenant, at);\n"
    "CREATE INDEX alerts_at ON alerts (at);\n"
    /* key: the engine's 64-bit key as a two's-complement integer; tat: little-endian int64s. */
    "CREATE TABLE limiter (\n"
    "    key INTEGER PRIMARY KEY,\n"
    "    tat BLOB NOT NULL\n"
    ");\n",

    /* 2: API keys (store/keys.c). The secret is never stored: verifier and signing are
     * SHA-256 of the secret under two labels (docs/keys.md). revoked: NULL while live, else
     * when. meta.key_generation is bumped with every create and revoke, in the same
     * transaction, so that a daemon polling it reloads its keyring; the first create makes the
     * row (absent reads as 0). */
    "CREATE TABLE keys (\n"
    "    id                TEXT PRIMARY KEY,\n"
    "    tenant            TEXT NOT NULL,\n"
    "    scopes            INTEGER NOT NULL,\n"
    "    verifier          BLOB NOT NULL,\n"
    "    signing           BLOB NOT NULL,\n"
    "    require_signature INTEGER NOT NULL,\n"
    "    created           INTEGER NOT NULL,\n"
    "    last_used         INTEGER,\n"
    "    revoked           INTEGER\n"
    ") WITHOUT ROWID;\n",

    /* 3: the Bayes classifier's counts (store/bayes.c, docs/bayes.md). scope: "*" for the
     * global class, else a tenant. token: the 64-bit token hash (seeded by meta.seed) as a
     * two's-complement integer. Rows are only ever read whole (at open) or upserted by primary
     * key, so both tables are WITHOUT ROWID; a token row whose counts reach zero is deleted. */
    "CREATE TABLE bayes_scopes (\n"
    "    scope     TEXT PRIMARY KEY,\n"
    "    spam_msgs INTEGER NOT NULL,\n"
    "    ham_msgs  INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE bayes_tokens (\n"
    "    scope TEXT NOT NULL,\n"
    "    token INTEGER NOT NULL,\n"
    "    spam  INTEGER NOT NULL,\n"
    "    ham   INTEGER NOT NULL,\n"
    "    PRIMARY KEY (scope, token)\n"
    ") WITHOUT ROWID;\n",

    /* 4: what moderators taught the classifier through POST /v1/learn (store/learned.c), one
     * row per (tenant, message): the class it was learned as, whether the global class learned
     * it too, and its tokens (little-endian 64-bit hashes under meta.seed, not the text), so
     * that a correction takes back exactly what was counted and can be made by message id
     * alone. */
    "CREATE TABLE bayes_learned (\n"
    "    tenant  TEXT NOT NULL,\n"
    "    message TEXT NOT NULL,\n"
    "    class   INTEGER NOT NULL,\n"
    "    global  INTEGER NOT NULL,\n"
    "    at      INTEGER NOT NULL,\n"
    "    tokens  BLOB NOT NULL,\n"
    "    PRIMARY KEY (tenant, message)\n"
    ");\n",
    /* 5: the engine's facts for rules (docs/rules.md). accounts.messages: messages delivered
     * (allowed, not dry runs) for the first_message fact, rebuilt here from the allowed
     * verdicts already stored (one grouped pass; needs SQLite 3.33 for UPDATE ... FROM).
     * seen_domains: registrable link domains a tenant has delivered, for URL_NEW_DOMAIN; key is
     * sg__engine_key(tenant, domain) under meta.seed, the only column the engine loads; tenant
     * and domain are kept for people and for a later "forget this domain". verdicts.url_domains:
     * the message's distinct registrable link domains as a JSON array, as in the verdict JSON,
     * for a later url_domain index of "who received what" (no index yet: nothing queries it). */
    "ALTER TABLE accounts ADD COLUMN messages INTEGER NOT NULL DEFAULT 0;\n"
    "UPDATE accounts SET messages = c.n FROM (SELECT tenant, sender, count(*) AS n\n"
    "    FROM verdicts WHERE action = 'allow' GROUP BY tenant, sender) AS c\n"
    "    WHERE c.tenant = accounts.tenant AND c.sender = accounts.account;\n"
    "CREATE TABLE seen_domains (\n"
    "    key        INTEGER PRIMARY KEY,\n"
    "    tenant     TEXT NOT NULL,\n"
    "    domain     TEXT NOT NULL,\n"
    "    first_seen INTEGER NOT NULL\n"
    ");\n"
    "ALTER TABLE verdicts ADD COLUMN url_domains TEXT NOT NULL DEFAULT '[]';\n",

    /* 6: model snapshots (store/bayes.c, bayes/snapshot.h, docs/bayes.md): each class's token
     * counts as one blob, so that opening a 1.7M-token model reads one value instead of
     * stepping 1.7M rows. The rows stay the truth. bayes_scopes.generation is bumped by every
     * transaction that changes a class's rows or message counts; a snapshot is used only when
     * it is of the class's current generation. Every class with token rows gets a scope row
     * (a store written before could in principle lack one), because loading now goes class by
     * class. An ordinary rowid table: SQLite keeps large blobs poorly in a WITHOUT ROWID
     * table's B-tree. */
    "ALTER TABLE bayes_scopes ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;\n"
    "INSERT OR IGNORE INTO bayes_scopes (scope, spam_msgs, ham_msgs)\n"
    "    SELECT DISTINCT scope, 0, 0 FROM bayes_tokens;\n"
    "CREATE TABLE bayes_snapshots (\n"
    "    scope      TEXT PRIMARY KEY,\n"
    "    generation INTEGER NOT NULL,\n"
    "    data       BLOB NOT NULL\n"
    ");\n",
};

#define SG_SCHEMA_LATEST ((int)(sizeof migrations / sizeof migrations[0]))

int sg__schema_latest(void) { return SG_SCHEMA_LATEST; }

/* One integer from a PRAGMA or a count. */
static int query_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int fail(sqlite3 *db, const char *name, const char *what, char *errmsg, size_t errsize)
{
    snprintf(errmsg, errsize, "store %s: schema: %s: %s", name, what, sqlite3_errmsg(db));
    return SG_ESTORE;
}

/* Refuses files that are not ours or are newer than us; *version gets the stored version. */
static int check(sqlite3 *db, const char *name, int *version, char *errmsg, size_t errsize)
{
    int app_id = 0, objects = 0;
    if (query_int(db, "PRAGMA user_version", version) != SQLITE_OK ||
        query_int(db, "PRAGMA application_id", &app_id) != SQLITE_OK)
        return fail(db, name, "read version", errmsg, errsize);
    if (*version == 0) {
        if (query_int(db, "SELECT count(*) FROM sqlite_schema", &objects) != SQLITE_OK)
            return fail(db, name, "read version", errmsg, errsize);
        if (objects > 0 && app_id != SG_APPLICATION_ID) {
            snprintf(errmsg, errsize,
                     "store %s: a SQLite database that is not a sendguard store "
                     "(it has tables but no schema version)", name);
            return SG_ESTORE;
        }
        return 0;
    }
    if (app_id != SG_APPLICATION_ID) {
        snprintf(errmsg, errsize,
                 "store %s: not a sendguard store (application_id 0x%08x, user_version %d)",
                 name, (unsigned)app_id, *version);
        return SG_ESTORE;
    }
    if (*version < 0) {
        snprintf(errmsg, errsize, "store %s: invalid schema version %d", name, *version);
        return SG_ESTORE;
    }
    if (*version > SG_SCHEMA_LATEST) {
        snprintf(errmsg, errsize,
                 "store %s: schema version %d is newer than this program's %d "
                 "(sendguard %s); upgrade sendguard or use another store",
                 name, *version, SG_SCHEMA_LATEST, SG_VERSION);
        return SG_ESCHEMA;
    }
    return 0;
}

int sg__schema_migrate(sqlite3 *db, const char *name, char *errmsg, size_t errsize)
{
    int version;
    int err = check(db, name, &version, errmsg, errsize);
    if (err || version == SG_SCHEMA_LATEST)
        return err;

    /* IMMEDIATE takes the write lock first, so two processes opening a new file do not both
     * migrate: the second waits (busy_timeout), then sees the new version and does nothing. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, name, "begin", errmsg, errsize);
    err = check(db, name, &version, errmsg, errsize);
    for (int v = version; !err && v < SG_SCHEMA_LATEST; v++) {
        if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof what, "migration %d", v + 1);
            err = fail(db, name, what, errmsg, errsize);
        }
    }
    if (!err && version < SG_SCHEMA_LATEST) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 SG_APPLICATION_ID, SG_SCHEMA_LATEST);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            err = fail(db, name, "set version", errmsg, errsize);
    }
    if (!err && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        err = fail(db, name, "commit", errmsg, errsize);
    if (err && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}
