/* API keys in the store: one row per key with its tenant, scopes, flags and times and two hashes
 * of its secret (a verifier and a signing key), never the secret itself. Create and revoke are
 * committed before they return, together with a bump of meta.key_generation, so a daemon in
 * another process that polls the generation picks them up at once. */
#include "store/keys.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"
#include "util/alloc.h"

/* Index i names the scope bit 1 << i (enum sg_key_scope). */
static const char *const scope_names[] = {"check", "events", "report", "moderate", "audit", "admin"};
#define SCOPE_COUNT (sizeof scope_names / sizeof scope_names[0])
_Static_assert(SCOPE_COUNT == 6 && SG_KEY_ADMIN == 1 << 5, "scope names follow enum sg_key_scope");

/* A colliding id is as likely as guessing 64 random bits; retrying keeps it from ever being a
 * failure an operator sees. */
#define SG_KEY_ID_TRIES 4

/* ---- libsodium, parsing, derivation ---- */

static int sodium_status = -1;
static void sodium_once(void) { sodium_status = sodium_init() < 0 ? -1 : 0; }

int sg__key_sodium_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sodium_once);
    return sodium_status == 0 ? 0 : SG_EIO;
}

/* Lower-case only: a key has one spelling, so it can be compared and logged (by id) as text. */
static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool sg__key_id_valid(const char *id)
{
    return id && strnlen(id, SG_KEY_ID_HEX + 1) == SG_KEY_ID_HEX && is_lower_hex(id, SG_KEY_ID_HEX);
}

int sg__key_parse(const char *key, size_t len, char id[SG_KEY_ID_HEX + 1],
                  char secret[SG_KEY_SECRET_HEX + 1])
{
    if (!key || len != SG_KEY_LEN || memcmp(key, "sg_", 3) != 0 || key[3 + SG_KEY_ID_HEX] != '_' ||
        !is_lower_hex(key + 3, SG_KEY_ID_HEX) ||
        !is_lower_hex(key + 3 + SG_KEY_ID_HEX + 1, SG_KEY_SECRET_HEX))
        return SG_EAUTH;
    memcpy(id, key + 3, SG_KEY_ID_HEX);
    id[SG_KEY_ID_HEX] = '\0';
    memcpy(secret, key + 3 + SG_KEY_ID_HEX + 1, SG_KEY_SECRET_HEX);
    secret[SG_KEY_SECRET_HEX] = '\0';
    return 0;
}

/* Different labels make the verifier and the signing key independent: the one stored to check
 * a bearer key cannot be used to sign, nor the other way round. */
static void labelled_hash(const char *label, const char *secret_hex,
                          unsigned char out[SG_KEY_HASH_BYTES])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)label, strlen(label));
    crypto_hash_sha256_update(&st, (const unsigned char *)secret_hex, SG_KEY_SECRET_HEX);
    crypto_hash_sha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void sg__key_derive(const char *secret_hex, unsigned char verifier[SG_KEY_HASH_BYTES],
                    unsigned char signing[SG_KEY_HASH_BYTES])
{
    if (verifier)
        labelled_hash("sendguard-key:", secret_hex, verifier);
    if (signing)
        labelled_hash("sendguard-signing:", secret_hex, signing);
}

/* ---- scopes ---- */

int sg_key_scopes_parse(const char *csv, unsigned *out)
{
    if (!csv || !out)
        return SG_EINVAL;
    unsigned bits = 0;
    const char *p = csv;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        size_t i = 0;
        while (i < SCOPE_COUNT && !(strlen(scope_names[i]) == n && memcmp(p, scope_names[i], n) == 0))
            i++;
        if (i == SCOPE_COUNT)
            return SG_EINVAL; /* unknown, or empty ("", "check,,audit", "check,") */
        bits |= 1u << i;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = bits;
    return 0;
}

void sg_key_scopes_format(unsigned scopes, char *buf, size_t size)
{
    if (!buf || !size)
        return;
    buf[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < SCOPE_COUNT; i++) {
        if (!(scopes & (1u << i)))
            continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", scope_names[i]);
        if (n < 0 || (size_t)n >= size - len) {
            buf[len] = '\0'; /* whole names only */
            return;
        }
        len += (size_t)n;
    }
}

/* ---- statements and the keys' own transactions ---- */

/* Key statements are prepared per call rather than cached in the store's statement table:
 * create, revoke, listing and the generation poll are rare, and a prepare costs microseconds. */
static sqlite3_stmt *prepare(struct sg_store *store, const char *sql, const char *what, int *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        char w[128];
        snprintf(w, sizeof w, "%s: prepare", what);
        *err = sg__store_fail(store, w, rc);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Runs a bound write to completion; the statement is finalized. */
static int step_done(struct sg_store *store, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    int err = rc == SQLITE_DONE ? 0 : sg__store_fail(store, what, rc);
    sqlite3_finalize(st);
    return err;
}

/* Starts a transaction of this file's own, holding the store lock on success. Queued writes are
 * applied and the open batch committed first, so that the key write commits alone and at once
 * rather than whenever the batch fills (an operator's revoke must reach the daemon within a
 * second), and so that it never rolls back someone else's batch if it fails. */
static int own_begin(struct sg_store *store, const char *what)
{
    sg__store_drain(store); /* before the lock: the writer thread needs it to finish */
    sg__store_lock(store);
    int err = sg__store_commit(store);
    if (!err) {
        int rc = sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            char w[128];
            snprintf(w, sizeof w, "%s: begin", what);
            err = sg__store_fail(store, w, rc);
        }
    }
    if (err)
        sg__store_unlock(store);
    return err;
}

/* Commits (err 0) or rolls back own_begin's transaction and releases the lock. */
static int own_end(struct sg_store *store, int err, const char *what)
{
    if (!err) {
        int rc = sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            char w[128];
            snprintf(w, sizeof w, "%s: commit", what);
            err = sg__store_fail(store, w, rc);
        }
    }
    if (err && !sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    sg__store_unlock(store);
    return err;
}

static int bump_generation(struct sg_store *store, const char *what)
{
    int err = 0;
    sqlite3_stmt *st = prepare(store,
                               "INSERT INTO meta (key, value) VALUES ('key_generation', 1)"
                               " ON CONFLICT (key) DO UPDATE SET value = coalesce(value, 0) + 1",
                               what, &err);
    return st ? step_done(store, st, what) : err;
}

/* ---- create, revoke, touch ---- */

static int check_tenant(struct sg_store *store, const char *tenant)
{
    if (!tenant || !*tenant)
        return sg__store_error(store, SG_EINVAL,
                               "keys: create: no tenant (use \"*\" for a platform key)");
    size_t n = strnlen(tenant, SG_KEY_TENANT_MAX + 1);
    if (n > SG_KEY_TENANT_MAX)
        return sg__store_error(store, SG_EINVAL, "keys: create: tenant longer than %d bytes",
                               SG_KEY_TENANT_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tenant[i] < 0x20 || tenant[i] == 0x7f)
            return sg__store_error(store, SG_EINVAL,
                                   "keys: create: tenant has a control character");
    return 0;
}

/* A tenant named by a key gets a row with nothing set, which is what the default policy means;
 * an existing tenant is left as it is. */
static int ensure_tenant(struct sg_store *store, const char *tenant, sg_time now)
{
    static const char what[] = "keys: create: tenants: insert";
    int err = 0;
    sqlite3_stmt *st = prepare(store,
                               "INSERT INTO tenants (tenant, timezone, working_hours, created)"
                               " VALUES (?1, NULL, NULL, ?2) ON CONFLICT (tenant) DO NOTHING",
                               what, &err);
    if (!st)
        return err;
    sg__store_bind_text(st, 1, tenant);
    sqlite3_bind_int64(st, 2, now);
    return step_done(store, st, what);
}

/* Fills key ("sg_<id>_<secret>" and a NUL), id and secret with fresh random digits. */
static void new_key(char key[SG_KEY_LEN + 1], char id[SG_KEY_ID_HEX + 1],
                    char secret[SG_KEY_SECRET_HEX + 1])
{
    unsigned char raw[SG_KEY_ID_HEX / 2 + SG_KEY_SECRET_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(id, SG_KEY_ID_HEX + 1, raw, SG_KEY_ID_HEX / 2);
    sodium_bin2hex(secret, SG_KEY_SECRET_HEX + 1, raw + SG_KEY_ID_HEX / 2, SG_KEY_SECRET_HEX / 2);
    sodium_memzero(raw, sizeof raw);
    memcpy(key, "sg_", 3);
    memcpy(key + 3, id, SG_KEY_ID_HEX);
    key[3 + SG_KEY_ID_HEX] = '_';
    memcpy(key + 3 + SG_KEY_ID_HEX + 1, secret, SG_KEY_SECRET_HEX + 1);
}

/* Inserts the key row, drawing a new key when the id is taken. */
static int insert_key(struct sg_store *store, const char *tenant, unsigned scopes,
                      int require_signature, sg_time now, char *key, struct sg_key_info *k)
{
    static const char what[] = "keys: create: insert";
    int err = 0;
    sqlite3_stmt *st = prepare(store,
                               "INSERT INTO keys (id, tenant, scopes, verifier, signing,"
                               " require_signature, created, last_used, revoked)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL)",
                               what, &err);
    if (!st)
        return err;
    char secret[SG_KEY_SECRET_HEX + 1];
    unsigned char verifier[SG_KEY_HASH_BYTES], signing[SG_KEY_HASH_BYTES];
    for (int attempt = 1;; attempt++) {
        new_key(key, k->id, secret);
        sg__key_derive(secret, verifier, signing);
        sqlite3_reset(st);
        sg__store_bind_text(st, 1, k->id);
        sg__store_bind_text(st, 2, tenant);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)scopes);
        sqlite3_bind_blob(st, 4, verifier, SG_KEY_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, signing, SG_KEY_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, require_signature ? 1 : 0);
        sqlite3_bind_int64(st, 7, now);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if ((rc & 0xff) != SQLITE_CONSTRAINT || attempt == SG_KEY_ID_TRIES) {
            err = sg__store_fail(store, what, rc);
            break;
        }
    }
    /* The statement's bound blobs point at these: finalize before wiping them. */
    sqlite3_finalize(st);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(verifier, sizeof verifier);
    sodium_memzero(signing, sizeof signing);
    return err;
}

int sg_key_create(struct sg_store *store, const char *tenant, unsigned scopes,
                  int require_signature, sg_time now, char **key_out, struct sg_key_info *info)
{
    if (!store)
        return SG_EINVAL;
    if (!key_out)
        return sg__store_error(store, SG_EINVAL, "keys: create: no place for the key");
    *key_out = NULL;
    int err = check_tenant(store, tenant);
    if (err)
        return err;
    if (scopes == 0 || (scopes & ~(unsigned)SG_KEY_SCOPES_ALL))
        return sg__store_error(store, SG_EINVAL,
                               "keys: create: scopes 0x%x: expected a non-empty set of check, "
                               "events, report, moderate, audit, admin",
                               scopes);
    if (sg__key_sodium_init() != 0)
        return sg__store_error(store, SG_EIO, "keys: create: libsodium cannot initialise");
    char *key = sg__malloc(SG_KEY_LEN + 1);
    if (!key)
        return sg__store_error(store, SG_ENOMEM, "keys: create: out of memory");

    static const char what[] = "keys: create";
    struct sg_key_info k = {
        .scopes = scopes, .require_signature = require_signature ? 1 : 0, .created = now};
    snprintf(k.tenant, sizeof k.tenant, "%s", tenant);
    err = own_begin(store, what);
    if (err) {
        sg__free(key);
        return err;
    }
    if (strcmp(tenant, "*") != 0)
        err = ensure_tenant(store, tenant, now);
    if (!err)
        err = insert_key(store, tenant, scopes, require_signature, now, key, &k);
    if (!err)
        err = bump_generation(store, "keys: create: generation");
    err = own_end(store, err, what);
    if (err) {
        sodium_memzero(key, SG_KEY_LEN + 1);
        sg__free(key);
        return err;
    }
    *key_out = key;
    if (info)
        *info = k;
    return 0;
}

/* The error for an id that names no key, with a hint when it is not even shaped like one. */
static int no_such_key(struct sg_store *store, const char *what, const char *id)
{
    char kid[SG_KEY_ID_HEX + 1], secret[SG_KEY_SECRET_HEX + 1];
    if (id && sg__key_parse(id, strlen(id), kid, secret) == 0) {
        /* Someone pasted the whole key: name only its id, never echo the secret. */
        sodium_memzero(secret, sizeof secret);
        return sg__store_error(store, SG_ENOTFOUND,
                               "%s: that is a whole key; give its id (%s) instead", what, kid);
    }
    if (!sg__key_id_valid(id))
        return sg__store_error(store, SG_ENOTFOUND,
                               "%s: no key \"%.80s\" (an id is 16 lower-case hex digits, as "
                               "`sendguard keys list` shows)",
                               what, id ? id : "(null)");
    return sg__store_error(store, SG_ENOTFOUND, "%s: no key %s", what, id);
}

int sg_key_revoke(struct sg_store *store, const char *id, sg_time now)
{
    if (!store)
        return SG_EINVAL;
    static const char what[] = "keys: revoke";
    if (!sg__key_id_valid(id))
        return no_such_key(store, what, id);
    int err = own_begin(store, what);
    if (err)
        return err;
    sqlite3_stmt *st = prepare(store,
                               "UPDATE keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
                               what, &err);
    if (st) {
        sg__store_bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        err = step_done(store, st, what);
    }
    if (!err && sqlite3_changes(store->db) == 1) {
        err = bump_generation(store, "keys: revoke: generation");
    } else if (!err) {
        /* Nothing changed: already revoked (fine) or no such key. */
        st = prepare(store, "SELECT 1 FROM keys WHERE id = ?1", what, &err);
        if (st) {
            sg__store_bind_text(st, 1, id);
            int rc = sqlite3_step(st);
            if (rc == SQLITE_DONE)
                err = no_such_key(store, what, id);
            else if (rc != SQLITE_ROW)
                err = sg__store_fail(store, what, rc);
            sqlite3_finalize(st);
        }
    }
    return own_end(store, err, what);
}

int sg_key_touch(struct sg_store *store, const char *id, sg_time now)
{
    if (!store)
        return SG_EINVAL;
    static const char what[] = "keys: touch";
    /* Ids come from the keyring, so a malformed one is the caller's bug; a well-formed one that
     * names no key changes nothing and is not worth failing a request over. */
    if (!sg__key_id_valid(id))
        return sg__store_error(store, SG_EINVAL, "%s: malformed key id \"%.80s\"", what,
                               id ? id : "(null)");
    int err = 0;
    sg__store_lock(store);
    /* A plain write in the batch: "last used" may lag by a batch, which is all it is for. */
    sqlite3_stmt *st = prepare(store,
                               "UPDATE keys SET last_used = ?2"
                               " WHERE id = ?1 AND (last_used IS NULL OR last_used < ?2)",
                               what, &err);
    if (st)
        err = sg__store_write_begin(store, what);
    if (st && !err) {
        sg__store_bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        err = step_done(store, st, what);
        st = NULL;
        if (!err)
            err = sg__store_write_done(store, what);
    }
    sqlite3_finalize(st);
    sg__store_unlock(store);
    return err;
}

/* ---- reading ---- */

int sg_key_generation(struct sg_store *store, int64_t *out)
{
    if (!store || !out)
        return SG_EINVAL;
    static const char what[] = "keys: generation";
    int err = 0;
    *out = 0;
    sg__store_lock(store);
    sqlite3_stmt *st =
        prepare(store, "SELECT value FROM meta WHERE key = 'key_generation'", what, &err);
    if (st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            err = sg__store_fail(store, what, rc);
        sqlite3_finalize(st);
    }
    sg__store_unlock(store);
    return err;
}

/* Columns 0-6 of the key selects into k; SG_ESTORE for a row this code did not write. */
static int row_info(struct sg_store *store, sqlite3_stmt *st, struct sg_key_info *k,
                    const char *what)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *tenant = (const char *)sqlite3_column_text(st, 1);
    /* A tenant cut to fit would be another tenant's name: refuse rather than truncate. */
    if (!sg__key_id_valid(id) || !tenant || !*tenant ||
        (size_t)sqlite3_column_bytes(st, 1) > SG_KEY_TENANT_MAX)
        return sg__store_error(store, SG_ESTORE, "%s: malformed key row (id \"%.32s\")", what,
                               id ? id : "");
    memset(k, 0, sizeof *k);
    memcpy(k->id, id, SG_KEY_ID_HEX + 1);
    memcpy(k->tenant, tenant, (size_t)sqlite3_column_bytes(st, 1) + 1);
    /* Bits a later version may add mean nothing here. */
    k->scopes = (unsigned)sqlite3_column_int64(st, 2) & (unsigned)SG_KEY_SCOPES_ALL;
    k->require_signature = sqlite3_column_int(st, 3) != 0;
    k->created = sqlite3_column_int64(st, 4);
    k->last_used = sqlite3_column_int64(st, 5); /* NULL reads as 0: never */
    k->revoked = sqlite3_column_type(st, 6) != SQLITE_NULL;
    return 0;
}

int sg_key_each(struct sg_store *store, int (*fn)(void *ud, const struct sg_key_info *k),
                void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    static const char what[] = "keys: select";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = prepare(store,
                               "SELECT id, tenant, scopes, require_signature, created, last_used,"
                               " revoked FROM keys ORDER BY created, id",
                               what, &err);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        struct sg_key_info k;
        err = row_info(store, st, &k, what);
        if (!err)
            err = fn(ud, &k);
    }
    sqlite3_finalize(st);
    sg__store_unlock(store);
    return err;
}

int sg__store_key_live_each(struct sg_store *store,
                            int (*fn)(void *ud, const struct sg_key_info *k,
                                      const unsigned char verifier[SG_KEY_HASH_BYTES],
                                      const unsigned char signing[SG_KEY_HASH_BYTES]),
                            void *ud)
{
    if (!store || !fn)
        return SG_EINVAL;
    static const char what[] = "keys: select live";
    int err = 0;
    sg__store_lock(store);
    sqlite3_stmt *st = prepare(store,
                               "SELECT id, tenant, scopes, require_signature, created, last_used,"
                               " revoked, verifier, signing FROM keys WHERE revoked IS NULL"
                               " ORDER BY id",
                               what, &err);
    while (st && !err) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = sg__store_fail(store, what, rc);
            break;
        }
        struct sg_key_info k;
        err = row_info(store, st, &k, what);
        if (err)
            break;
        const unsigned char *verifier = sqlite3_column_blob(st, 7);
        int vlen = sqlite3_column_bytes(st, 7);
        const unsigned char *signing = sqlite3_column_blob(st, 8);
        int slen = sqlite3_column_bytes(st, 8);
        if (!verifier || !signing || vlen != SG_KEY_HASH_BYTES || slen != SG_KEY_HASH_BYTES) {
            err = sg__store_error(store, SG_ESTORE, "%s: key %s has a malformed verifier or "
                                  "signing key", what, k.id);
            break;
        }
        err = fn(ud, &k, verifier, signing);
    }
    sqlite3_finalize(st);
    sg__store_unlock(store);
    return err;
}
