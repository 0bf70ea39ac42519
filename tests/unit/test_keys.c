/* API keys and alert records: create / verify / revoke through the keyring, the strict key
 * parser, generations, scopes, tenant creation, last-used, visibility to a second store on the
 * same file (another process), the stored hashes, and sg_store_alert_add / sg_store_alerts. */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sendguard.h"
#include "store/keys.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "support/tmpdir.h"

#define SEC INT64_C(1000000)
#define T0 (INT64_C(1795392000) * SEC) /* 2026-11-23T00:00:00Z */

/* ---- helpers ---- */


static struct sg_store *open_memory(void)
{
    struct sg_store *s;
    assert_int_equal(sg_store_open(NULL, &s), 0);
    return s;
}

/* Creates a key and checks its shape; returns it (free with sg_free). */
static char *create(struct sg_store *s, const char *tenant, unsigned scopes, int sig, sg_time now,
                    struct sg_key_info *info)
{
    char *key = NULL;
    struct sg_key_info local;
    assert_int_equal(sg_key_create(s, tenant, scopes, sig, now, &key, info ? info : &local), 0);
    assert_non_null(key);
    assert_int_equal(strlen(key), 84);
    assert_memory_equal(key, "sg_", 3);
    assert_int_equal(key[19], '_');
    for (int i = 3; i < 84; i++)
        if (i != 19)
            assert_non_null(strchr("0123456789abcdef", key[i]));
    return key;
}

static struct sg_keyring *load(struct sg_store *s)
{
    struct sg_keyring *ring = NULL;
    assert_int_equal(sg_keyring_load(s, &ring), 0);
    assert_non_null(ring);
    return ring;
}

static int verify(const struct sg_keyring *ring, const char *key, struct sg_key_info *info)
{
    return sg_keyring_verify(ring, key, strlen(key), info);
}

static int64_t generation(struct sg_store *s)
{
    int64_t g = -1;
    assert_int_equal(sg_key_generation(s, &g), 0);
    return g;
}

/* SHA-256(label || secret hex), as the platform computes it (docs/keys.md). */
static void labelled(const char *label, const char *key, unsigned char out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)label, strlen(label));
    crypto_hash_sha256_update(&st, (const unsigned char *)key + 20, 64);
    crypto_hash_sha256_final(&st, out);
}

struct collected {
    int n;
    struct sg_key_info keys[8];
    int stop_after; /* 0: never */
};

static int collect(void *ud, const struct sg_key_info *k)
{
    struct collected *c = ud;
    if (c->n < 8)
        c->keys[c->n] = *k;
    c->n++;
    return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

static const struct sg_key_info *find_key(struct sg_store *s, const char *id, struct collected *c)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(sg_key_each(s, collect, c), 0);
    for (int i = 0; i < c->n && i < 8; i++)
        if (strcmp(c->keys[i].id, id) == 0)
            return &c->keys[i];
    return NULL;
}

/* ---- scopes ---- */

static void scopes_parse_and_format(void **state)
{
    unsigned bits = 0;
    assert_int_equal(sg_key_scopes_parse("check,events", &bits), 0);
    assert_int_equal(bits, SG_KEY_CHECK | SG_KEY_EVENTS);
    assert_int_equal(sg_key_scopes_parse(" audit , admin", &bits), 0);
    assert_int_equal(bits, SG_KEY_AUDIT | SG_KEY_ADMIN);
    assert_int_equal(sg_key_scopes_parse("report,report", &bits), 0);
    assert_int_equal(bits, SG_KEY_REPORT);
    assert_int_equal(sg_key_scopes_parse("check,events,report,moderate,audit,admin", &bits), 0);
    assert_int_equal(bits, 0x3f);

    static const char *const bad[] = {"", " ", "sned", "check,", ",check", "check,,audit",
                                      "Check", "checks", "chec", "check events", "admin;audit",
                                      "*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bits = 77;
        assert_int_equal(sg_key_scopes_parse(bad[i], &bits), SG_EINVAL);
    }
    assert_int_equal(sg_key_scopes_parse(NULL, &bits), SG_EINVAL);
    assert_int_equal(sg_key_scopes_parse("check", NULL), SG_EINVAL);

    char buf[64];
    sg_key_scopes_format(0x3f, buf, sizeof buf);
    assert_string_equal(buf, "check,events,report,moderate,audit,admin");
    sg_key_scopes_format(0, buf, sizeof buf);
    assert_string_equal(buf, "");
    sg_key_scopes_format(SG_KEY_MODERATE | 0x100, buf, sizeof buf); /* unknown bits ignored */
    assert_string_equal(buf, "moderate");
    char small[10];
    sg_key_scopes_format(SG_KEY_CHECK | SG_KEY_EVENTS, small, sizeof small);
    assert_string_equal(small, "check"); /* whole names only */
    sg_key_scopes_format(SG_KEY_CHECK, NULL, 0);
    /* Every set round-trips. */
    for (unsigned set = 1; set < 64; set++) {
        sg_key_scopes_format(set, buf, sizeof buf);
        assert_int_equal(sg_key_scopes_parse(buf, &bits), 0);
        assert_int_equal(bits, set);
    }
}

/* ---- the worked example of docs/keys.md ---- */

static void hex32(const unsigned char *b, char out[65])
{
    sodium_bin2hex(out, 65, b, 32);
}

static void docs_example_vector(void **state)
{
    static const char key[] = "sg_0123456789abcdef_00112233445566778899aabbccddeeff"
                              "00112233445566778899aabbccddeeff";
    char id[17], secret[65], hex[65];
    assert_int_equal(sg__key_parse(key, strlen(key), id, secret), 0);
    assert_string_equal(id, "0123456789abcdef");
    unsigned char verifier[32], signing[32], mac[32];
    sg__key_derive(secret, verifier, signing);
    hex32(verifier, hex);
    assert_string_equal(hex, "fb9b1e88164ea25b205fd67e3406292a2f578853fc301c7311ad4f39f31607cc");
    hex32(signing, hex);
    assert_string_equal(hex, "644f57fc54b4c8cfcf9a7d2c75b103489b227f388a526a0d893336ea84adea90");

    /* METHOD \n PATH \n TIMESTAMP \n BODY, HMAC-SHA256 under the raw signing key. */
    static const char post[] =
        "POST\n/v1/check\n1795392000\n"
        "{\"tenant\":\"forum\",\"id\":\"m1\",\"channel\":\"private_message\",\"sender\":\"u1\","
        "\"recipients\":[\"u2\"],\"body\":\"hi\"}";
    crypto_auth_hmacsha256(mac, (const unsigned char *)post, strlen(post), signing);
    hex32(mac, hex);
    assert_string_equal(hex, "faf1b2e5b45286b0e1ae1abbb74bf2e32fab55a6d4262c1ae6810723a2a45219");
    static const char get[] =
        "GET\n/v1/alerts?tenant=forum&since=2026-11-23T00:00:00Z\n1795392000\n";
    crypto_auth_hmacsha256(mac, (const unsigned char *)get, strlen(get), signing);
    hex32(mac, hex);
    assert_string_equal(hex, "4571bbed04a606d23e064bc26ff5535f72924258a089298e1a91e068a824ec22");
}

/* ---- create, verify, revoke ---- */

static void create_verify_revoke_round_trip(void **state)
{
    struct sg_store *s = open_memory();
    struct sg_key_info info;
    char *key = create(s, "forum", SG_KEY_CHECK | SG_KEY_EVENTS, 0, T0, &info);
    assert_memory_equal(info.id, key + 3, 16);
    assert_int_equal(strlen(info.id), 16);
    assert_string_equal(info.tenant, "forum");
    assert_int_equal(info.scopes, SG_KEY_CHECK | SG_KEY_EVENTS);
    assert_int_equal(info.require_signature, 0);
    assert_true(info.created == T0);
    assert_true(info.last_used == 0);
    assert_int_equal(info.revoked, 0);

    struct sg_keyring *ring = load(s);
    struct sg_key_info got;
    memset(&got, 0, sizeof got);
    assert_int_equal(verify(ring, key, &got), 0);
    assert_string_equal(got.id, info.id);
    assert_string_equal(got.tenant, "forum");
    assert_int_equal(got.scopes, SG_KEY_CHECK | SG_KEY_EVENTS);
    assert_int_equal(got.require_signature, 0);
    assert_true(got.created == T0 && got.last_used == 0);
    assert_int_equal(got.revoked, 0);
    assert_int_equal(verify(ring, key, NULL), 0);

    /* The signing key is SHA-256("sendguard-signing:" || secret), as the platform derives it. */
    unsigned char want[32], signing[32];
    labelled("sendguard-signing:", key, want);
    assert_int_equal(sg_keyring_signing_key(ring, info.id, signing), 0);
    assert_memory_equal(signing, want, 32);

    /* The store holds the two hashes and never the secret. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT verifier, signing, id, tenant FROM keys",
                                        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    labelled("sendguard-key:", key, want);
    assert_int_equal(sqlite3_column_bytes(st, 0), 32);
    assert_memory_equal(sqlite3_column_blob(st, 0), want, 32);
    labelled("sendguard-signing:", key, want);
    assert_memory_equal(sqlite3_column_blob(st, 1), want, 32);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), info.id);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    /* Two keys never share an id or a secret. */
    char *other = create(s, "forum", SG_KEY_CHECK, 0, T0, NULL);
    assert_memory_not_equal(other + 3, key + 3, 16);
    assert_memory_not_equal(other + 20, key + 20, 64);
    sg_free(other);

    assert_int_equal(sg_key_revoke(s, info.id, T0 + SEC), 0);
    /* A loaded ring is a snapshot: it changes only when reloaded. */
    assert_int_equal(verify(ring, key, NULL), 0);
    sg_keyring_free(ring);
    ring = load(s);
    memset(&got, 0x5a, sizeof got);
    struct sg_key_info untouched;
    memcpy(&untouched, &got, sizeof got);
    assert_int_equal(verify(ring, key, &got), SG_EAUTH);
    assert_memory_equal(&got, &untouched, sizeof got); /* not written on failure */
    assert_int_equal(sg_keyring_signing_key(ring, info.id, signing), SG_ENOTFOUND);

    /* Revoking twice is fine; the key is listed as revoked. */
    assert_int_equal(sg_key_revoke(s, info.id, T0 + 2 * SEC), 0);
    struct collected c;
    const struct sg_key_info *listed = find_key(s, info.id, &c);
    assert_non_null(listed);
    assert_int_equal(listed->revoked, 1);
    assert_int_equal(c.n, 2);

    sg_keyring_free(ring);
    sg_free(key);
    sg_store_close(s);
}

static void wrong_secret_and_unknown_id(void **state)
{
    struct sg_store *s = open_memory();
    struct sg_key_info info;
    char *key = create(s, "forum", SG_KEY_CHECK, 0, T0, &info);
    struct sg_keyring *ring = load(s);
    char bad[85];
    memcpy(bad, key, 85);

    /* Last secret digit changed. */
    bad[83] = bad[83] == '0' ? '1' : '0';
    assert_int_equal(verify(ring, bad, NULL), SG_EAUTH);
    /* First secret digit changed. */
    memcpy(bad, key, 85);
    bad[20] = bad[20] == 'a' ? 'b' : 'a';
    assert_int_equal(verify(ring, bad, NULL), SG_EAUTH);
    /* Right secret, unknown id. */
    memcpy(bad, key, 85);
    bad[3] = bad[3] == 'f' ? 'e' : 'f';
    assert_int_equal(verify(ring, bad, NULL), SG_EAUTH);
    /* Another key's secret under this id. */
    char *other = create(s, "forum", SG_KEY_CHECK, 0, T0, NULL);
    memcpy(bad, key, 85);
    memcpy(bad + 20, other + 20, 64);
    sg_keyring_free(ring);
    ring = load(s);
    assert_int_equal(verify(ring, bad, NULL), SG_EAUTH);
    assert_int_equal(verify(ring, key, NULL), 0);
    assert_int_equal(verify(ring, other, NULL), 0);

    unsigned char out[32];
    assert_int_equal(sg_keyring_signing_key(ring, "0000000000000000", out), SG_ENOTFOUND);
    assert_int_equal(sg_keyring_signing_key(ring, "nope", out), SG_ENOTFOUND);
    assert_int_equal(sg_keyring_signing_key(ring, NULL, out), SG_EINVAL);
    assert_int_equal(sg_keyring_signing_key(NULL, info.id, out), SG_EINVAL);
    assert_int_equal(sg_keyring_verify(NULL, key, 84, NULL), SG_EINVAL);

    sg_keyring_free(ring);
    sg_free(key);
    sg_free(other);
    sg_store_close(s);
}

static void malformed_keys_rejected(void **state)
{
    struct sg_store *s = open_memory();
    char *key = create(s, "forum", SG_KEY_CHECK, 0, T0, NULL);
    struct sg_keyring *ring = load(s);
    assert_int_equal(verify(ring, key, NULL), 0); /* the control */
    char pid[17], psecret[65];
    assert_int_equal(sg__key_parse(key, 84, pid, psecret), 0);
    assert_memory_equal(pid, key + 3, 16);
    assert_int_equal(pid[16], '\0');
    assert_string_equal(psecret, key + 20);

    char k[200];
    struct { const char *what; int edit; } cases[] = {
        {"upper-case id digit", 0},    {"upper-case secret digit", 1}, {"prefix sx_", 2},
        {"prefix SG_", 3},             {"no separator", 4},            {"dash separator", 5},
        {"non-hex g in secret", 6},    {"non-hex in id", 7},           {"trailing newline", 8},
        {"leading space", 9},          {"Bearer prefix", 10},          {"one digit short", 11},
        {"one digit long", 12},        {"id 15 digits", 13},           {"id 17 digits", 14},
        {"NUL inside", 15},            {"trailing space", 16},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 84;
        memcpy(k, key, 85);
        switch (cases[i].edit) {
        case 0: k[4] = 'A'; break;
        case 1: k[40] = 'F'; break;
        case 2: k[1] = 'x'; break;
        case 3: k[0] = 'S'; k[1] = 'G'; break;
        case 4: memmove(k + 19, k + 20, 65); len = 83; break;
        case 5: k[19] = '-'; break;
        case 6: k[50] = 'g'; break;
        case 7: k[10] = 'z'; break;
        case 8: k[84] = '\n'; k[85] = '\0'; len = 85; break;
        case 9: memmove(k + 1, k, 85); k[0] = ' '; len = 85; break;
        case 10: snprintf(k, sizeof k, "Bearer %s", key); len = strlen(k); break;
        case 11: k[83] = '\0'; len = 83; break;
        case 12: k[84] = '0'; k[85] = '\0'; len = 85; break;
        case 13: memmove(k + 18, k + 19, 66); len = 83; break; /* "sg_" + 15 + "_" + 64 + extra */
        case 14: memmove(k + 4, k + 3, 82); k[3] = 'a'; len = 85; break;
        case 15: k[60] = '\0'; break;
        case 16: k[84] = ' '; k[85] = '\0'; len = 85; break;
        }
        if (sg_keyring_verify(ring, k, len, NULL) != SG_EAUTH)
            fail_msg("%s: accepted", cases[i].what);
        /* Refused by the parser itself, not only because no key matched. */
        char id[17], secret[65];
        if (sg__key_parse(k, len, id, secret) != SG_EAUTH)
            fail_msg("%s: parsed", cases[i].what);
    }
    /* A prefix of the right key, the empty key, NULL. */
    assert_int_equal(sg_keyring_verify(ring, key, 83, NULL), SG_EAUTH);
    assert_int_equal(sg_keyring_verify(ring, key, 0, NULL), SG_EAUTH);
    assert_int_equal(sg_keyring_verify(ring, "", 0, NULL), SG_EAUTH);
    assert_int_equal(sg_keyring_verify(ring, NULL, 84, NULL), SG_EAUTH);
    assert_int_equal(verify(ring, "sg_", NULL), SG_EAUTH);
    assert_int_equal(verify(ring, "sg__", NULL), SG_EAUTH);
    /* The length is what counts, not a NUL: the key followed by junk outside len is fine. */
    memcpy(k, key, 84);
    memcpy(k + 84, "junk", 5);
    assert_int_equal(sg_keyring_verify(ring, k, 84, NULL), 0);

    sg_keyring_free(ring);
    sg_free(key);
    sg_store_close(s);
}

static void empty_keyring_and_bad_args(void **state)
{
    struct sg_store *s = open_memory();
    struct sg_keyring *ring = load(s);
    char key[85];
    snprintf(key, sizeof key, "sg_%016d_%064d", 0, 0);
    assert_int_equal(verify(ring, key, NULL), SG_EAUTH);
    unsigned char out[32];
    assert_int_equal(sg_keyring_signing_key(ring, "0000000000000000", out), SG_ENOTFOUND);
    sg_keyring_free(ring);
    sg_keyring_free(NULL);
    struct sg_keyring *none = (struct sg_keyring *)&none;
    assert_int_equal(sg_keyring_load(NULL, &none), SG_EINVAL);
    assert_null(none);
    assert_int_equal(sg_keyring_load(s, NULL), SG_EINVAL);
    int64_t g;
    assert_int_equal(sg_key_generation(NULL, &g), SG_EINVAL);
    assert_int_equal(sg_key_generation(s, NULL), SG_EINVAL);
    assert_int_equal(sg_key_each(s, NULL, NULL), SG_EINVAL);
    assert_int_equal(sg_key_each(NULL, collect, NULL), SG_EINVAL);
    assert_int_equal(sg_key_revoke(NULL, "0000000000000000", T0), SG_EINVAL);
    assert_int_equal(sg_key_touch(NULL, "0000000000000000", T0), SG_EINVAL);
    char *k = NULL;
    assert_int_equal(sg_key_create(NULL, "t", SG_KEY_CHECK, 0, T0, &k, NULL), SG_EINVAL);
    sg_store_close(s);
}

static void create_invalid_args(void **state)
{
    struct sg_store *s = open_memory();
    char *key = (char *)"untouched";
    assert_int_equal(sg_key_create(s, NULL, SG_KEY_CHECK, 0, T0, &key, NULL), SG_EINVAL);
    assert_null(key);
    assert_non_null(strstr(sg_store_errmsg(s), "no tenant"));
    assert_int_equal(sg_key_create(s, "", SG_KEY_CHECK, 0, T0, &key, NULL), SG_EINVAL);
    assert_int_equal(sg_key_create(s, "a\nb", SG_KEY_CHECK, 0, T0, &key, NULL), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "control character"));
    char long_tenant[258];
    memset(long_tenant, 't', 257);
    long_tenant[257] = '\0';
    assert_int_equal(sg_key_create(s, long_tenant, SG_KEY_CHECK, 0, T0, &key, NULL), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "longer than 256"));
    assert_int_equal(sg_key_create(s, "t", 0, 0, T0, &key, NULL), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "scopes"));
    assert_int_equal(sg_key_create(s, "t", 1u << 6, 0, T0, &key, NULL), SG_EINVAL);
    assert_int_equal(sg_key_create(s, "t", SG_KEY_CHECK, 0, T0, NULL, NULL), SG_EINVAL);
    assert_null(key);
    assert_int_equal(generation(s), 0);

    /* 256 bytes is the limit, and it comes back whole. */
    long_tenant[256] = '\0';
    struct sg_key_info info;
    key = create(s, long_tenant, SG_KEY_ADMIN, 1, T0, &info);
    assert_string_equal(info.tenant, long_tenant);
    struct collected c;
    const struct sg_key_info *listed = find_key(s, info.id, &c);
    assert_non_null(listed);
    assert_string_equal(listed->tenant, long_tenant);
    assert_int_equal(listed->require_signature, 1);
    sg_free(key);

    /* Malformed and unknown ids. */
    assert_int_equal(sg_key_revoke(s, "0123456789abcdef", T0), SG_ENOTFOUND);
    assert_non_null(strstr(sg_store_errmsg(s), "0123456789abcdef"));
    assert_int_equal(sg_key_revoke(s, "0123456789ABCDEF", T0), SG_ENOTFOUND);
    assert_non_null(strstr(sg_store_errmsg(s), "0123456789ABCDEF"));
    assert_int_equal(sg_key_revoke(s, NULL, T0), SG_ENOTFOUND);
    /* A whole key pasted in: the message names the id and never repeats the secret. */
    char *whole = create(s, "t", SG_KEY_CHECK, 0, T0, &info);
    assert_int_equal(sg_key_revoke(s, whole, T0), SG_ENOTFOUND);
    assert_non_null(strstr(sg_store_errmsg(s), info.id));
    assert_null(strstr(sg_store_errmsg(s), whole + 20));
    sg_free(whole);
    sg_store_close(s);
}

static void generation_changes_on_create_and_revoke(void **state)
{
    struct sg_store *s = open_memory();
    int64_t g0 = generation(s);
    assert_int_equal(g0, 0);
    struct sg_key_info a, b;
    char *ka = create(s, "forum", SG_KEY_CHECK, 0, T0, &a);
    int64_t g1 = generation(s);
    assert_true(g1 != g0);
    char *kb = create(s, "*", SG_KEY_ADMIN, 0, T0, &b);
    int64_t g2 = generation(s);
    assert_true(g2 != g1 && g2 != g0);
    assert_int_equal(sg_key_revoke(s, a.id, T0), 0);
    int64_t g3 = generation(s);
    assert_true(g3 != g2 && g3 != g1);
    /* Nothing changed: no new generation. */
    assert_int_equal(sg_key_revoke(s, a.id, T0), 0);
    assert_true(generation(s) == g3);
    assert_int_equal(sg_key_revoke(s, "ffffffffffffffff", T0), SG_ENOTFOUND);
    assert_true(generation(s) == g3);
    assert_int_equal(sg_key_touch(s, b.id, T0 + SEC), 0);
    assert_true(generation(s) == g3);
    char *none = NULL;
    assert_int_equal(sg_key_create(s, "forum", 0, 0, T0, &none, NULL), SG_EINVAL);
    assert_true(generation(s) == g3);
    sg_free(ka);
    sg_free(kb);
    sg_store_close(s);
}

struct tenants {
    int n;
    char names[4][32];
    char tz[4][32];
    sg_time created[4];
};

static int collect_tenant(void *ud, const struct sg_tenant_row *row)
{
    struct tenants *t = ud;
    if (t->n < 4) {
        snprintf(t->names[t->n], sizeof t->names[0], "%s", row->tenant);
        snprintf(t->tz[t->n], sizeof t->tz[0], "%s", row->timezone ? row->timezone : "-");
        t->created[t->n] = row->created;
    }
    t->n++;
    return 0;
}

static void tenant_created_with_defaults(void **state)
{
    struct sg_store *s = open_memory();
    /* An existing tenant is left as it is (its settings and its "created"). */
    struct sg_tenant_row clinic = {.tenant = "clinic", .timezone = "Europe/Berlin", .created = T0};
    assert_int_equal(sg__store_tenant_put(s, &clinic), 0);
    char *k1 = create(s, "newco", SG_KEY_CHECK, 0, T0 + 5 * SEC, NULL);
    char *k2 = create(s, "clinic", SG_KEY_CHECK, 0, T0 + 6 * SEC, NULL);
    char *k3 = create(s, "*", SG_KEY_ADMIN, 0, T0 + 7 * SEC, NULL); /* no tenant "*" */
    char *k4 = create(s, "newco", SG_KEY_AUDIT, 0, T0 + 8 * SEC, NULL);
    struct tenants t = {0};
    assert_int_equal(sg__store_tenant_each(s, collect_tenant, &t), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.names[0], "clinic");
    assert_string_equal(t.tz[0], "Europe/Berlin");
    assert_true(t.created[0] == T0);
    assert_string_equal(t.names[1], "newco");
    assert_string_equal(t.tz[1], "-"); /* nothing set: the default policy */
    assert_true(t.created[1] == T0 + 5 * SEC);
    sg_free(k1);
    sg_free(k2);
    sg_free(k3);
    sg_free(k4);
    sg_store_close(s);
}

static void each_order_and_touch(void **state)
{
    struct sg_store *s = open_memory();
    struct sg_key_info a, b, c;
    char *ka = create(s, "forum", SG_KEY_CHECK, 0, T0 + 2 * SEC, &a);
    char *kb = create(s, "forum", SG_KEY_EVENTS, 1, T0, &b);
    char *kc = create(s, "*", SG_KEY_ADMIN | SG_KEY_AUDIT, 0, T0 + SEC, &c);
    struct collected got = {0};
    assert_int_equal(sg_key_each(s, collect, &got), 0);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.keys[0].id, b.id); /* oldest first */
    assert_string_equal(got.keys[1].id, c.id);
    assert_string_equal(got.keys[2].id, a.id);
    assert_int_equal(got.keys[0].require_signature, 1);
    assert_string_equal(got.keys[1].tenant, "*");
    assert_int_equal(got.keys[1].scopes, SG_KEY_ADMIN | SG_KEY_AUDIT);
    /* A non-zero return stops and is returned. */
    memset(&got, 0, sizeof got);
    got.stop_after = 2;
    assert_int_equal(sg_key_each(s, collect, &got), 42);
    assert_int_equal(got.n, 2);

    /* last_used: never (0) until touched; a later touch moves it, an earlier one does not. */
    struct collected l;
    assert_true(find_key(s, a.id, &l)->last_used == 0);
    assert_int_equal(sg_key_touch(s, a.id, T0 + 60 * SEC), 0);
    assert_true(find_key(s, a.id, &l)->last_used == T0 + 60 * SEC);
    assert_int_equal(sg_key_touch(s, a.id, T0 + 30 * SEC), 0);
    assert_true(find_key(s, a.id, &l)->last_used == T0 + 60 * SEC);
    assert_true(find_key(s, b.id, &l)->last_used == 0);
    assert_int_equal(sg_key_touch(s, "0123456789abcdef", T0), 0); /* unknown: nothing to do */
    assert_int_equal(sg_key_touch(s, "0123", T0), SG_EINVAL);
    assert_int_equal(sg_key_touch(s, NULL, T0), SG_EINVAL);
    /* The keyring hands out last_used as loaded. */
    struct sg_keyring *ring = load(s);
    struct sg_key_info v;
    assert_int_equal(verify(ring, ka, &v), 0);
    assert_true(v.last_used == T0 + 60 * SEC);
    assert_int_equal(verify(ring, kb, &v), 0);
    assert_int_equal(v.require_signature, 1);
    assert_int_equal(verify(ring, kc, &v), 0);
    assert_string_equal(v.tenant, "*");
    sg_keyring_free(ring);
    sg_free(ka);
    sg_free(kb);
    sg_free(kc);
    sg_store_close(s);
}

/* ---- another process ---- */

static void visible_to_another_store_at_once(void **state)
{
    struct tmp *t = *state;
    struct sg_store *a, *b;
    assert_int_equal(sg_store_open(t->path, &a), 0);
    assert_int_equal(sg_store_open(t->path, &b), 0);
    int64_t g0 = generation(b);

    /* a has a batch of writes open; creating the key commits it too, then the key alone. */
    assert_int_equal(sg_store_alert_add(a, "forum", "cohort_flagged", "cohort-1", "5 signups",
                                        T0), 0);
    struct sg_key_info info;
    char *key = create(a, "forum", SG_KEY_CHECK, 0, T0, &info);
    assert_false(a->in_tx);
    int64_t g1 = generation(b);
    assert_true(g1 != g0);
    struct sg_keyring *ring = load(b);
    assert_int_equal(verify(ring, key, NULL), 0);
    sg_keyring_free(ring);
    char *json = NULL;
    assert_int_equal(sg_store_alerts(b, "forum", 0, &json), 0);
    assert_non_null(strstr(json, "cohort-1"));
    sg_free(json);

    /* Revoked in a: b's next load refuses it. */
    assert_int_equal(sg_key_revoke(a, info.id, T0 + SEC), 0);
    assert_true(generation(b) != g1);
    ring = load(b);
    assert_int_equal(verify(ring, key, NULL), SG_EAUTH);
    sg_keyring_free(ring);
    struct collected c;
    assert_int_equal(find_key(b, info.id, &c)->revoked, 1);

    /* And the other way round. */
    char *key2 = create(b, "*", SG_KEY_ADMIN, 0, T0, &info);
    ring = load(a);
    assert_int_equal(verify(ring, key2, NULL), 0);
    sg_keyring_free(ring);

    sg_free(key);
    sg_free(key2);
    sg_store_close(a);
    sg_store_close(b);
}

static void migrates_a_version_1_store(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    assert_int_equal(sg_store_open(t->path, &s), 0);
    sg_store_close(s);
    /* Make it what a version-1 program left behind: no tables of later migrations. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE keys; DROP TABLE IF EXISTS bayes_scopes;"
                                      " DROP TABLE IF EXISTS bayes_tokens;"
                                      " DROP TABLE IF EXISTS bayes_learned;"
                                      " DROP TABLE IF EXISTS seen_domains;"
                                      " DROP TABLE IF EXISTS bayes_snapshots;"
                                      " ALTER TABLE accounts DROP COLUMN messages;"
                                      " ALTER TABLE verdicts DROP COLUMN url_domains;"
                                      " PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sg_store_open(t->path, &s), 0);
    char *key = create(s, "forum", SG_KEY_CHECK, 0, T0, NULL);
    struct sg_keyring *ring = load(s);
    assert_int_equal(verify(ring, key, NULL), 0);
    sg_keyring_free(ring);
    sg_free(key);
    sg_store_close(s);
}

/* ---- alerts ---- */

static void alerts_add_and_list(void **state)
{
    struct sg_store *s = open_memory();
    char *json = NULL;
    assert_int_equal(sg_store_alerts(s, NULL, 0, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);

    assert_int_equal(sg_store_alert_add(s, "forum", "cohort_flagged", "cohort-7", "12 signups",
                                        T0 + 20 * SEC), 0);
    assert_int_equal(sg_store_alert_add(s, "forum", "sender_suspended", "acct-1",
                                        "reported \"spam\"\n3 times", T0 + 10 * SEC), 0);
    assert_int_equal(sg_store_alert_add(s, "clinic", "tenant_paused", "clinic", NULL,
                                        T0 + 15 * SEC), 0);
    assert_int_equal(sg_store_alert_add(s, NULL, "auth_abuse", "198.51.100.7",
                                        "20 failed keys", T0 + 30 * SEC), 0);

    assert_int_equal(sg_store_alerts(s, "forum", 0, &json), 0);
    assert_string_equal(json,
                        "[{\"type\":\"alert\",\"at\":\"2026-11-23T00:00:10Z\",\"tenant\":\"forum\","
                        "\"kind\":\"sender_suspended\",\"subject\":\"acct-1\","
                        "\"reason\":\"reported \\\"spam\\\"\\n3 times\"},"
                        "{\"type\":\"alert\",\"at\":\"2026-11-23T00:00:20Z\",\"tenant\":\"forum\","
                        "\"kind\":\"cohort_flagged\",\"subject\":\"cohort-7\","
                        "\"reason\":\"12 signups\"}]");
    sg_free(json);
    /* since is inclusive. */
    assert_int_equal(sg_store_alerts(s, "forum", T0 + 20 * SEC, &json), 0);
    assert_non_null(strstr(json, "cohort_flagged"));
    assert_null(strstr(json, "sender_suspended"));
    sg_free(json);
    assert_int_equal(sg_store_alerts(s, "forum", T0 + 21 * SEC, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);
    /* NULL tenant: every alert, oldest first, platform-wide ones with tenant null. */
    assert_int_equal(sg_store_alerts(s, NULL, T0 + 12 * SEC, &json), 0);
    const char *paused = strstr(json, "tenant_paused"), *cohort = strstr(json, "cohort_flagged"),
               *abuse = strstr(json, "auth_abuse");
    assert_true(paused && cohort && abuse && paused < cohort && cohort < abuse);
    assert_null(strstr(json, "sender_suspended"));
    assert_non_null(strstr(json, "\"tenant\":null,\"kind\":\"auth_abuse\""));
    assert_non_null(strstr(json, "\"subject\":\"clinic\",\"reason\":null"));
    sg_free(json);
    assert_int_equal(sg_store_alerts(s, "clinic", 0, &json), 0);
    assert_non_null(strstr(json, "tenant_paused"));
    assert_null(strstr(json, "forum"));
    sg_free(json);
    assert_int_equal(sg_store_alerts(s, "nobody", 0, &json), 0);
    assert_string_equal(json, "[]");
    sg_free(json);

    /* Every kind of the header is accepted; others are refused, naming the kind. */
    static const char *const kinds[] = {"sender_suspended", "campaign_blocked", "cohort_flagged",
                                        "tenant_paused", "key_suspended", "auth_abuse",
                                        "volume_anomaly"};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(sg_store_alert_add(s, "kinds", kinds[i], "x", "y", T0), 0);
    assert_int_equal(sg_store_alerts(s, "kinds", 0, &json), 0);
    for (size_t i = 0; i < 7; i++)
        assert_non_null(strstr(json, kinds[i]));
    sg_free(json);
    assert_int_equal(sg_store_alert_add(s, "forum", "sned", "x", "y", T0), SG_EINVAL);
    assert_non_null(strstr(sg_store_errmsg(s), "\"sned\""));
    assert_int_equal(sg_store_alert_add(s, "forum", NULL, "x", "y", T0), SG_EINVAL);
    assert_int_equal(sg_store_alert_add(s, "forum", "", "x", "y", T0), SG_EINVAL);
    assert_int_equal(sg_store_alert_add(s, "forum", "Auth_Abuse", "x", "y", T0), SG_EINVAL);
    assert_int_equal(sg_store_alert_add(s, "", "auth_abuse", "x", "y", T0), SG_EINVAL);
    assert_int_equal(sg_store_alert_add(NULL, "forum", "auth_abuse", "x", "y", T0), SG_EINVAL);
    char big[5000];
    memset(big, 'r', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sg_store_alert_add(s, "forum", "auth_abuse", "x", big, T0), SG_ETOOBIG);
    assert_int_equal(sg_store_alerts(s, "forum", T0, &json), 0);
    assert_null(strstr(json, "rrrr")); /* nothing refused was written */
    sg_free(json);
    assert_int_equal(sg_store_alerts(NULL, NULL, 0, &json), SG_EINVAL);
    assert_int_equal(sg_store_alerts(s, NULL, 0, NULL), SG_EINVAL);
    assert_int_equal(sg_store_flush(s), 0);
    sg_store_close(s);
}

#define FILE_TEST(fn) cmocka_unit_test_setup_teardown(fn, tmp_setup, tmp_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scopes_parse_and_format),
        cmocka_unit_test(docs_example_vector),
        cmocka_unit_test(create_verify_revoke_round_trip),
        cmocka_unit_test(wrong_secret_and_unknown_id),
        cmocka_unit_test(malformed_keys_rejected),
        cmocka_unit_test(empty_keyring_and_bad_args),
        cmocka_unit_test(create_invalid_args),
        cmocka_unit_test(generation_changes_on_create_and_revoke),
        cmocka_unit_test(tenant_created_with_defaults),
        cmocka_unit_test(each_order_and_touch),
        FILE_TEST(visible_to_another_store_at_once),
        FILE_TEST(migrates_a_version_1_store),
        cmocka_unit_test(alerts_add_and_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
