/* Model snapshots (src/bayes/snapshot.c, the bayes_snapshots table, docs/bayes.md): the blob
 * codec round trip and its refusals; through a file store, a snapshot written on the first open
 * and used by the next with the same model as the rows give (global and tenant classes); a
 * snapshot made stale by another learner is not used; one transaction, one generation; a
 * damaged or truncated blob falls back to the rows and is replaced; the size limit drops the
 * same tokens either way; sg__bayes_write_snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes/bayes.h"
#include "bayes/bayes_store.h"
#include "bayes/snapshot.h"
#include "sendguard.h"
#include "store/store.h"
#include "support/sqlite_query.h"
#include "support/tmpdir.h"
#include "text/content.h"

/* ---- helpers ---- */

static void file_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

static void content_init(struct sg_content *c, const char *body)
{
    memset(c, 0, sizeof *c);
    c->text = c->norm = body;
    c->text_len = c->norm_len = strlen(body);
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Messages of made-up words, so each class gets hundreds of distinct tokens. */
static void train(struct sg_bayes *b, const char *tenant, int n, uint32_t seed, unsigned flags)
{
    uint32_t rng = seed;
    for (int i = 0; i < n; i++) {
        char buf[512];
        size_t len = 0;
        bool spam = i % 2 == 0;
        for (int w = 0; w < 24 && len + 16 < sizeof buf; w++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%c%u ", spam ? "s" : "h",
                                    'a' + w % 3, rng_next(&rng) % 400);
        struct sg_content c;
        content_init(&c, buf);
        assert_int_equal(sg__bayes_learn(b, NULL, tenant, &c, spam ? SG_BAYES_SPAM : SG_BAYES_HAM,
                                         flags),
                         0);
    }
}

static struct sg_bayes *open_model(const char *path, struct sg_store **store, uint32_t max_tokens)
{
    assert_int_equal(sg_store_open(path, store), 0);
    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    p.min_spam = p.min_ham = 1;
    if (max_tokens)
        p.max_model_tokens = max_tokens;
    struct sg_bayes *b;
    int rc = sg__bayes_open(*store, &p, &b);
    if (rc)
        fprintf(stderr, "bayes open: %s\n", sg_store_errmsg(*store));
    assert_int_equal(rc, 0);
    return b;
}

static void close_model(struct sg_bayes *b, struct sg_store *store)
{
    assert_int_equal(sg__bayes_flush(b), 0);
    assert_int_equal(sg_store_flush(store), 0);
    sg__bayes_free(b);
    sg_store_close(store);
}

/* What a model holds, as far as a test can see: stats and probabilities to the last bit. */
struct view {
    struct sg_bayes_stats global, clinic;
    double p[2][4];
    uint32_t used[2][4];
};

static const char *const probes[4] = {"sa1 sb2 sc3 sa17 ha5 hb9", "ha1 hb2 hc3 hc44 hb100",
                                      "sa250 ha250 sb399 hb399", "nothing learned here at all"};

static struct view look(struct sg_bayes *b)
{
    struct view v;
    memset(&v, 0, sizeof v);
    assert_int_equal(sg__bayes_stats(b, NULL, &v.global), 0);
    (void)sg__bayes_stats(b, "clinic", &v.clinic);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 4; i++) {
            struct sg_content c;
            content_init(&c, probes[i]);
            struct sg_bayes_result r;
            assert_int_equal(sg__bayes_classify(b, NULL, t ? "clinic" : NULL, &c, &r), 0);
            v.p[t][i] = r.probability;
            v.used[t][i] = r.tokens_used;
        }
    return v;
}

static void same_view(const struct view *a, const struct view *b)
{
    const struct sg_bayes_stats *x[2] = {&a->global, &a->clinic}, *y[2] = {&b->global, &b->clinic};
    for (int t = 0; t < 2; t++) {
        assert_int_equal(x[t]->tokens, y[t]->tokens);
        assert_int_equal(x[t]->spam_msgs, y[t]->spam_msgs);
        assert_int_equal(x[t]->ham_msgs, y[t]->ham_msgs);
        assert_int_equal(x[t]->model_tokens, y[t]->model_tokens);
        assert_int_equal(x[t]->full, y[t]->full);
        for (int i = 0; i < 4; i++) {
            assert_memory_equal(&a->p[t][i], &b->p[t][i], sizeof(double));
            assert_int_equal(a->used[t][i], b->used[t][i]);
        }
    }
}

/* The model as the rows alone give it: every snapshot removed first. */
static struct view rows_view(const char *path, uint32_t max_tokens)
{
    file_exec(path, "DELETE FROM bayes_snapshots");
    struct sg_store *s;
    struct sg_bayes *b = open_model(path, &s, max_tokens);
    struct view v = look(b);
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.from_snapshot, 0);
    close_model(b, s);
    return v;
}

/* Opens, checks how the classes were read, and returns what the model holds. */
static struct view open_view(const char *path, uint32_t max_tokens, uint32_t from_snapshot,
                             uint32_t from_rows)
{
    struct sg_store *s;
    struct sg_bayes *b = open_model(path, &s, max_tokens);
    struct view v = look(b);
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.from_snapshot, from_snapshot);
    assert_int_equal(st.from_rows, from_rows);
    close_model(b, s);
    return v;
}

/* A store with a global class and a "clinic" class, learned and flushed, no snapshot yet. */
static void make_store(const char *path)
{
    struct sg_store *s;
    struct sg_bayes *b = open_model(path, &s, 0);
    train(b, NULL, 40, 1, 0);
    train(b, "clinic", 20, 2, 0);
    close_model(b, s);
}

/* ---- codec ---- */

#define BIND UINT64_C(0x0123456789abcdef)

static void test_codec_round_trip(void **state)
{
    (void)state;
    /* Keys in SQLite's order: the negative ones (top bit set) first. */
    static const struct { uint64_t key; uint32_t spam, ham; } e[] = {
        {0x8000000000000000u, 1, 0}, {0x8000000000000001u, 0, 1}, {0xfffffffffffffff0u, 7, 300},
        {1, UINT32_MAX, UINT32_MAX}, {0x1234567890abcdefu, 200, 0}, {0x7fffffffffffffffu, 0, 2},
    };
    enum { N = sizeof e / sizeof e[0] };
    struct sg_bayes_snapshot_writer w;
    assert_int_equal(sg__bayes_snapshot_writer_init(&w, N), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(sg__bayes_snapshot_add(&w, e[i].key, e[i].spam, e[i].ham), 0);
    assert_int_equal(sg__bayes_snapshot_add(&w, 0x7fffffffffffffffu, 1, 1), SG_ETOOBIG);
    size_t len;
    const unsigned char *blob = sg__bayes_snapshot_finish(&w, BIND, &len);
    struct sg_bayes_snapshot_reader r;
    uint32_t n;
    assert_int_equal(sg__bayes_snapshot_open(&r, blob, len, BIND, &n), 0);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        uint64_t key;
        uint32_t spam, ham;
        assert_int_equal(sg__bayes_snapshot_next(&r, &key, &spam, &ham), 1);
        assert_true(key == e[i].key);
        assert_int_equal(spam, e[i].spam);
        assert_int_equal(ham, e[i].ham);
    }
    uint64_t key;
    uint32_t spam, ham;
    assert_int_equal(sg__bayes_snapshot_next(&r, &key, &spam, &ham), 0);

    /* Every shorter prefix and every single flipped bit is refused at open. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(sg__bayes_snapshot_open(&r, blob, cut, BIND, &n), SG_EPARSE);
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    for (size_t i = 0; i < len; i++)
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(copy, blob, len);
            copy[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(sg__bayes_snapshot_open(&r, copy, len, BIND, &n), SG_EPARSE);
        }
    free(copy);
    /* Bound to something else: refused like damage. */
    assert_int_equal(sg__bayes_snapshot_open(&r, blob, len, BIND + 1, &n), SG_EPARSE);
    sg__bayes_snapshot_writer_release(&w);

    /* The writer refuses what would not decode, and stays as it was. */
    assert_int_equal(sg__bayes_snapshot_writer_init(&w, 4), 0);
    assert_int_equal(sg__bayes_snapshot_add(&w, 0, 1, 1), SG_EINVAL);
    assert_int_equal(sg__bayes_snapshot_add(&w, 5, 0, 0), SG_EINVAL);
    assert_int_equal(sg__bayes_snapshot_add(&w, 5, 1, 0), 0);
    assert_int_equal(sg__bayes_snapshot_add(&w, 5, 1, 0), SG_EINVAL);
    assert_int_equal(sg__bayes_snapshot_add(&w, 0x8000000000000000u, 1, 0), SG_EINVAL);
    assert_int_equal(sg__bayes_snapshot_add(&w, 6, 0, 1), 0);
    blob = sg__bayes_snapshot_finish(&w, BIND, &len);
    assert_int_equal(sg__bayes_snapshot_open(&r, blob, len, BIND, &n), 0);
    assert_int_equal(n, 2);
    sg__bayes_snapshot_writer_release(&w);
    assert_int_equal(sg__bayes_snapshot_writer_init(&w, 0), 0);
    blob = sg__bayes_snapshot_finish(&w, BIND, &len);
    assert_int_equal(len, SG_BAYES_SNAPSHOT_HEADER);
    assert_int_equal(sg__bayes_snapshot_open(&r, blob, len, BIND, &n), 0);
    assert_int_equal(sg__bayes_snapshot_next(&r, &key, &spam, &ham), 0);
    sg__bayes_snapshot_writer_release(&w);
}

/* A blob of n entries with the given body and a correct check value: what a bug (rather than
 * damage) could store. */
static size_t forge(unsigned char *out, uint32_t n, const unsigned char *body, size_t len)
{
    memcpy(out, "SGB1", 4);
    for (unsigned i = 0; i < 4; i++)
        out[4 + i] = (unsigned char)(n >> (8 * i));
    memcpy(out + SG_BAYES_SNAPSHOT_HEADER, body, len);
    uint64_t check = sg__bayes_snapshot_check(out + SG_BAYES_SNAPSHOT_HEADER, len, n, BIND);
    for (unsigned i = 0; i < 8; i++)
        out[8 + i] = (unsigned char)(check >> (8 * i));
    return SG_BAYES_SNAPSHOT_HEADER + len;
}

static int decode_all(const unsigned char *blob, size_t len)
{
    struct sg_bayes_snapshot_reader r;
    uint32_t n;
    int rc = sg__bayes_snapshot_open(&r, blob, len, BIND, &n);
    if (rc)
        return rc;
    uint64_t key;
    uint32_t spam, ham;
    while ((rc = sg__bayes_snapshot_next(&r, &key, &spam, &ham)) == 1)
        ;
    return rc;
}

static void test_codec_refuses_malformed_entries(void **state)
{
    (void)state;
    unsigned char blob[64];
    /* The first gap 2^63 is key 0. */
    static const unsigned char key0[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 0};
    assert_int_equal(decode_all(blob, forge(blob, 1, key0, sizeof key0)), SG_EPARSE);
    static const unsigned char zero_counts[] = {5, 0, 0};
    assert_int_equal(decode_all(blob, forge(blob, 1, zero_counts, sizeof zero_counts)), SG_EPARSE);
    /* A count of 2^32. */
    static const unsigned char big[] = {5, 0x80, 0x80, 0x80, 0x80, 0x10, 0};
    assert_int_equal(decode_all(blob, forge(blob, 1, big, sizeof big)), SG_EPARSE);
    /* A gap past 2^64 - 1 after the first key. */
    static const unsigned char wrap[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 0,
                                         1, 1, 0};
    assert_int_equal(decode_all(blob, forge(blob, 2, wrap, sizeof wrap)), SG_EPARSE);
    /* A varint running to the end, and bytes left over. */
    static const unsigned char open_end[] = {5, 1, 0x80};
    assert_int_equal(decode_all(blob, forge(blob, 1, open_end, sizeof open_end)), SG_EPARSE);
    static const unsigned char extra[] = {5, 1, 0, 9};
    assert_int_equal(decode_all(blob, forge(blob, 1, extra, sizeof extra)), SG_EPARSE);
    /* Fewer bytes than the entries need, and a count of entries 3 bytes cannot hold. */
    assert_int_equal(decode_all(blob, forge(blob, 2, zero_counts, sizeof zero_counts)), SG_EPARSE);
    static const unsigned char ok[] = {5, 1, 0};
    assert_int_equal(decode_all(blob, forge(blob, 1, ok, sizeof ok)), 0);
    assert_int_equal(decode_all(blob, forge(blob, 0, ok, 0)), 0);
}

/* ---- through the store ---- */

static void test_written_then_used(void **state)
{
    struct tmp *t = *state;
    make_store(t->path);
    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_snapshots"), 0);
    /* The first open reads the rows and leaves a snapshot of each class. */
    struct view first = open_view(t->path, 0, 0, 2);
    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_snapshots s JOIN "
                                             "bayes_scopes c USING (scope) WHERE s.generation = c.generation"),
                     2);
    assert_true(first.global.tokens > 500);
    assert_true(first.clinic.tokens > 200);
    struct view second = open_view(t->path, 0, 2, 0);
    same_view(&first, &second);
    struct view rows = rows_view(t->path, 0);
    same_view(&first, &rows);
}

static void test_stale_snapshot_not_used(void **state)
{
    struct tmp *t = *state;
    make_store(t->path);
    struct view before = open_view(t->path, 0, 0, 2);
    /* Another learner adds to the tenant's class only: its snapshot is stale, the global one
     * is not. */
    struct sg_store *s;
    struct sg_bayes *b = open_model(t->path, &s, 0);
    train(b, "clinic", 6, 77, 0);
    close_model(b, s);
    struct view after = open_view(t->path, 0, 1, 1);
    assert_int_equal(after.global.tokens, before.global.tokens);
    assert_true(after.clinic.spam_msgs == before.clinic.spam_msgs + 3);
    assert_true(after.clinic.tokens > before.clinic.tokens);
    struct view again = open_view(t->path, 0, 2, 0);
    same_view(&after, &again);
    struct view rows = rows_view(t->path, 0);
    same_view(&after, &rows);

    /* Unlearning changes counts without adding rows: still a new generation. */
    b = open_model(t->path, &s, 0);
    struct sg_content c;
    content_init(&c, "sa1 sb2 sc3");
    assert_int_equal(sg__bayes_learn(b, NULL, NULL, &c, SG_BAYES_SPAM, 0), 0);
    close_model(b, s);
    struct view learned = open_view(t->path, 0, 1, 1);
    b = open_model(t->path, &s, 0);
    assert_int_equal(sg__bayes_unlearn(b, NULL, NULL, &c, SG_BAYES_SPAM, 0), 0);
    close_model(b, s);
    struct view unlearned = open_view(t->path, 0, 1, 1);
    assert_int_equal(unlearned.global.spam_msgs, learned.global.spam_msgs - 1);
    rows = rows_view(t->path, 0);
    same_view(&unlearned, &rows);
}

/* A snapshot read in one store while a learner in another commits batch after batch: each
 * commit moves the generation, so a snapshot of the rows between two commits is never taken for
 * the state after the second. */
static void test_generation_per_transaction(void **state)
{
    struct tmp *t = *state;
    make_store(t->path);
    int64_t g0 = file_query_int(t->path, "SELECT generation FROM bayes_scopes WHERE scope = '*'");
    struct sg_store *s;
    struct sg_bayes *b = open_model(t->path, &s, 0);
    int64_t g1 = file_query_int(t->path, "SELECT generation FROM bayes_scopes WHERE scope = '*'");
    assert_true(g1 == g0); /* loading and snapshotting leave the generation alone */
    sg__store_set_batch(s, 7);
    train(b, NULL, 4, 99, 0);
    close_model(b, s);
    int64_t rows = file_query_int(t->path, "SELECT count(*) FROM bayes_tokens WHERE scope = '*'");
    int64_t g2 = file_query_int(t->path, "SELECT generation FROM bayes_scopes WHERE scope = '*'");
    /* At least one bump per batch of 7 rows written. */
    assert_true(g2 - g1 >= 2);
    assert_true(rows > 0);

    /* A snapshot put for an old generation is refused. */
    b = open_model(t->path, &s, 0); /* reads rows, stores the current snapshot */
    struct sg_bayes_snapshot_writer w;
    assert_int_equal(sg__bayes_snapshot_writer_init(&w, 1), 0);
    assert_int_equal(sg__bayes_snapshot_add(&w, 42, 1, 1), 0);
    size_t len;
    const void *blob = sg__bayes_snapshot_finish(&w, BIND, &len);
    assert_int_equal(sg__store_bayes_snapshot_put(s, "*", g1, blob, len), 0);
    assert_int_equal(sg__store_bayes_snapshot_put(s, "nobody", 0, blob, len), 0);
    sg__bayes_snapshot_writer_release(&w);
    close_model(b, s);
    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_snapshots WHERE scope = 'nobody'"), 0);
    assert_true(file_query_int(t->path, "SELECT generation FROM bayes_snapshots WHERE scope = '*'") == g2);
    assert_true(file_query_int(t->path, "SELECT length(data) FROM bayes_snapshots WHERE scope = '*'") > 100);
}

static void test_damaged_snapshot_falls_back(void **state)
{
    struct tmp *t = *state;
    make_store(t->path);
    struct view good = open_view(t->path, 0, 0, 2);
    static const char *const damage[] = {
        /* truncated */
        "UPDATE bayes_snapshots SET data = substr(data, 1, length(data) - 5) WHERE scope = '*'",
        /* one byte changed in the middle */
        "UPDATE bayes_snapshots SET data = substr(data, 1, 100) || "
        "CASE WHEN substr(data, 101, 1) = x'07' THEN x'08' ELSE x'07' END || substr(data, 102) "
        "WHERE scope = '*'",
        /* not a snapshot at all, and empty */
        "UPDATE bayes_snapshots SET data = x'00' WHERE scope = '*'",
        "UPDATE bayes_snapshots SET data = x'' WHERE scope = '*'",
        /* only the header */
        "UPDATE bayes_snapshots SET data = substr(data, 1, 16) WHERE scope = '*'",
        /* a sound blob, but the tenant's, filed under the global class */
        "UPDATE bayes_snapshots SET data = (SELECT data FROM bayes_snapshots WHERE scope = 'clinic') "
        "WHERE scope = '*'",
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        file_exec(t->path, damage[i]);
        struct view v = open_view(t->path, 0, 1, 1); /* the clinic's is fine */
        same_view(&good, &v);
        /* and the damaged one was replaced */
        v = open_view(t->path, 0, 2, 0);
        same_view(&good, &v);
    }
}

/* The model's size limit keeps the same tokens whichever way a class is read, also when the
 * limit falls inside the second class. */
static void test_size_limit_same_either_way(void **state)
{
    struct tmp *t = *state;
    make_store(t->path);
    struct view all = open_view(t->path, 0, 0, 2);
    uint32_t limits[] = {(uint32_t)all.global.tokens / 2,
                         (uint32_t)(all.global.tokens + all.clinic.tokens / 2)};
    for (int i = 0; i < 2; i++) {
        struct view snap = open_view(t->path, limits[i], 2, 0);
        assert_true(snap.global.full);
        assert_int_equal(snap.global.model_tokens, limits[i]);
        struct view rows = rows_view(t->path, limits[i]);
        same_view(&snap, &rows);
        /* The snapshots that limited load wrote hold every token all the same. */
        struct view v = open_view(t->path, 0, 2, 0);
        same_view(&all, &v);
    }
}

/* A store from before snapshots (schema 5) whose tenant class has token rows but no scope row:
 * the migration gives it one, so the class still loads. */
static void test_migration(void **state)
{
    struct tmp *t = *state;
    make_store(t->path);
    struct view before = rows_view(t->path, 0);
    file_exec(t->path, "DELETE FROM bayes_scopes WHERE scope = 'clinic';"
                       "DROP TABLE bayes_snapshots;"
                       "ALTER TABLE bayes_scopes DROP COLUMN generation;"
                       "PRAGMA user_version = 5");
    struct view after = open_view(t->path, 0, 0, 2);
    assert_int_equal(after.clinic.tokens, before.clinic.tokens);
    assert_int_equal(after.clinic.spam_msgs, 0); /* the counts of messages were in that row */
    assert_int_equal(after.global.tokens, before.global.tokens);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(&after.p[0][i], &before.p[0][i], sizeof(double));
    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_scopes"), 2);
    struct view again = open_view(t->path, 0, 2, 0);
    same_view(&after, &again);
}

static void test_write_snapshots(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s;
    struct sg_bayes *b = open_model(t->path, &s, 0);
    train(b, NULL, 30, 5, 0);
    train(b, "clinic", 10, 6, SG_BAYES_ALSO_GLOBAL);
    assert_int_equal(sg__bayes_write_snapshots(b), 0);
    struct view mem = look(b);
    close_model(b, s);
    struct view v = open_view(t->path, 0, 2, 0);
    same_view(&mem, &v);
    /* Nothing stale: nothing to do. */
    b = open_model(t->path, &s, 0);
    assert_int_equal(sg__bayes_write_snapshots(b), 0);
    close_model(b, s);
    v = rows_view(t->path, 0);
    same_view(&mem, &v);
    /* A memory-only model has nothing to write. */
    assert_int_equal(sg__bayes_open(NULL, NULL, &b), 0);
    assert_int_equal(sg__bayes_write_snapshots(b), 0);
    sg__bayes_free(b);
    assert_int_equal(sg__bayes_write_snapshots(NULL), SG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_round_trip),
        cmocka_unit_test(test_codec_refuses_malformed_entries),
        cmocka_unit_test_setup_teardown(test_written_then_used, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_stale_snapshot_not_used, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_generation_per_transaction, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_snapshot_falls_back, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_size_limit_same_either_way, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_migration, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_write_snapshots, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
