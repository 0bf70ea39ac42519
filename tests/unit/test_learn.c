/* sg_engine_learn and sg_engine_learn_id: learning counts once per message, a correction moves
 * the message to the other class, learning by id works only for messages learned before, the
 * counts and the record survive a restart, and enough learning makes the bayes check speak. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "bayes/bayes.h"
#include "engine/engine.h"
#include "store/schema.h"
#include "support/engine_harness.h"
#include "support/sqlite_query.h"

static struct sg_event *message(const char *tenant, const char *id, const char *subject,
                                const char *body)
{
    char json[4096];
    int n = snprintf(json, sizeof json,
                     "{\"tenant\":\"%s\",\"id\":\"%s\",\"channel\":\"email\",\"sender\":\"s\","
                     "\"recipients\":[\"r\"],\"subject\":\"%s\",\"body\":\"%s\"}",
                     tenant, id, subject, body);
    assert_true(n > 0 && (size_t)n < sizeof json);
    struct sg_event *ev;
    assert_int_equal(sg_event_parse(json, (size_t)n, SG_EV_MESSAGE, &ev, NULL), 0);
    return ev;
}

/* Learns and returns the parsed answer (caller decrefs). */
static json_t *learn(struct sg_engine *e, const char *tenant, const char *id, const char *klass,
                     unsigned flags)
{
    struct sg_event *ev = message(tenant, id, "You have won a prize",
                                  "Claim your free bitcoin prize now at http://claim.example");
    char *out = NULL;
    assert_int_equal(sg_engine_learn(e, ev, klass, flags, &out), 0);
    sg_event_free(ev);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr);
    assert_non_null(j);
    sg_free(out);
    return j;
}

static long long count(json_t *j, const char *cls, const char *what)
{
    json_t *v = json_object_get(json_object_get(j, cls), what);
    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static void learn_counts_once(void **state)
{
    struct harness *h = harness_new(NULL);
    json_t *j = learn(h->engine, "t1", "m1", "spam", 0);
    assert_string_equal(j_str(j, "message"), "m1");
    assert_string_equal(j_str(j, "tenant"), "t1");
    assert_string_equal(j_str(j, "class"), "spam");
    assert_string_equal(j_str(j, "status"), "learned");
    assert_true(json_is_true(json_object_get(j, "learned")));
    assert_true(json_is_null(json_object_get(j, "previous")));
    assert_true(json_integer_value(json_object_get(j, "tokens")) > 5);
    assert_int_equal(count(j, "tenant_class", "spam"), 1);
    assert_int_equal(count(j, "tenant_class", "ham"), 0);
    assert_int_equal(count(j, "global", "spam"), 1);
    assert_true(count(j, "tenant_class", "tokens") > 5);
    assert_true(json_is_false(json_object_get(json_object_get(j, "tenant_class"), "trained")));
    long long tokens = count(j, "tenant_class", "tokens");
    json_decref(j);

    /* The same message again: nothing moves. */
    j = learn(h->engine, "t1", "m1", "spam", 0);
    assert_string_equal(j_str(j, "status"), "already_learned");
    assert_true(json_is_false(json_object_get(j, "learned")));
    assert_string_equal(j_str(j, "previous"), "spam");
    assert_int_equal(count(j, "tenant_class", "spam"), 1);
    assert_int_equal(count(j, "global", "spam"), 1);
    assert_int_equal(count(j, "tenant_class", "tokens"), tokens);
    json_decref(j);

    /* The same id in another tenant is another message. */
    j = learn(h->engine, "t2", "m1", "spam", 0);
    assert_string_equal(j_str(j, "status"), "learned");
    assert_int_equal(count(j, "tenant_class", "spam"), 1);
    assert_int_equal(count(j, "global", "spam"), 2);
    json_decref(j);
    harness_free(h);
}

static void correction_moves(void **state)
{
    struct harness *h = harness_new(NULL);
    json_t *j = learn(h->engine, "t1", "m1", "spam", 0);
    long long tokens = count(j, "tenant_class", "tokens");
    json_decref(j);
    j = learn(h->engine, "t1", "m1", "ham", 0);
    assert_string_equal(j_str(j, "status"), "relearned");
    assert_true(json_is_true(json_object_get(j, "learned")));
    assert_string_equal(j_str(j, "previous"), "spam");
    assert_int_equal(count(j, "tenant_class", "spam"), 0);
    assert_int_equal(count(j, "tenant_class", "ham"), 1);
    assert_int_equal(count(j, "global", "spam"), 0);
    assert_int_equal(count(j, "global", "ham"), 1);
    json_decref(j);
    /* And back, by id alone: the stored tokens are what moves. */
    char *out = NULL;
    assert_int_equal(sg_engine_learn_id(h->engine, "t1", "m1", "spam", 0, &out), 0);
    json_error_t jerr;
    j = json_loads(out, 0, &jerr);
    sg_free(out);
    assert_string_equal(j_str(j, "status"), "relearned");
    assert_string_equal(j_str(j, "previous"), "ham");
    assert_int_equal(count(j, "tenant_class", "spam"), 1);
    assert_int_equal(count(j, "tenant_class", "ham"), 0);
    assert_int_equal(count(j, "global", "spam"), 1);
    assert_int_equal(count(j, "global", "ham"), 0);
    json_decref(j);
    /* The tokens moved with the message: the class holds the one message's tokens, no more. */
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(h->engine->bayes, "t1", &st), 0);
    assert_int_equal(st.tokens, tokens);
    assert_int_equal(st.spam_msgs, 1);
    assert_int_equal(st.ham_msgs, 0);
    harness_free(h);
}

static void tenant_only_and_corrections_follow_the_first_learn(void **state)
{
    struct harness *h = harness_new(NULL);
    json_t *j = learn(h->engine, "t1", "m1", "spam", SG_LEARN_TENANT_ONLY);
    assert_int_equal(count(j, "tenant_class", "spam"), 1);
    assert_int_equal(count(j, "global", "spam"), 0);
    json_decref(j);
    /* The correction counts globally now; the old tenant-only count is taken back only where
     * it was made, so the global class never goes to -1 spam (clamped) or keeps a stray. */
    j = learn(h->engine, "t1", "m1", "ham", 0);
    assert_int_equal(count(j, "tenant_class", "spam"), 0);
    assert_int_equal(count(j, "tenant_class", "ham"), 1);
    assert_int_equal(count(j, "global", "spam"), 0);
    assert_int_equal(count(j, "global", "ham"), 1);
    json_decref(j);
    harness_free(h);
}

struct racer {
    struct sg_engine *engine;
    const char *klass;
    int rc;
};

static void *race(void *ud)
{
    struct racer *r = ud;
    struct sg_event *ev = message("t1", "m1", "You have won a prize",
                                  "Claim your free bitcoin prize now at http://claim.example");
    char *out = NULL;
    r->rc = sg_engine_learn(r->engine, ev, r->klass, 0, &out);
    sg_free(out);
    sg_event_free(ev);
    return NULL;
}

/* Moderators deciding on one message at once: it ends up counted once, in one class. */
static void concurrent_learns_count_once(void **state)
{
    struct harness *h = harness_new(NULL);
    enum { N = 8 };
    pthread_t th[N];
    struct racer r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (struct racer){h->engine, i % 2 ? "ham" : "spam", -1};
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].rc, 0);
    }
    struct sg_bayes_stats t, g;
    assert_int_equal(sg__bayes_stats(h->engine->bayes, "t1", &t), 0);
    assert_int_equal(sg__bayes_stats(h->engine->bayes, NULL, &g), 0);
    assert_int_equal(t.spam_msgs + t.ham_msgs, 1);
    assert_int_equal(g.spam_msgs + g.ham_msgs, 1);
    assert_int_equal(t.spam_msgs, g.spam_msgs);
    harness_free(h);
}

static void learn_by_id_needs_content(void **state)
{
    struct harness *h = harness_new(NULL);
    char *out = (char *)"untouched";
    assert_int_equal(sg_engine_learn_id(h->engine, "t1", "nope", "spam", 0, &out), SG_ENOTFOUND);
    assert_null(out);
    /* A judged message has a verdict but no stored content. */
    json_decref(harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"t1\",\"id\":\"m9\","
                                     "\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"r\"],"
                                     "\"body\":\"hello\"}"));
    assert_int_equal(sg_engine_learn_id(h->engine, "t1", "m9", "spam", 0, &out), SG_ENOCONTENT);
    assert_null(out);
    assert_string_equal(sg_strerror(SG_ENOCONTENT), "message content is not kept");
    /* Nothing was counted. */
    struct sg_bayes_stats st;
    sg__bayes_stats(h->engine->bayes, NULL, &st);
    assert_int_equal(st.spam_msgs, 0);
    harness_free(h);
}

static void bad_arguments(void **state)
{
    struct harness *h = harness_new(NULL);
    struct sg_event *ev = message("t1", "m1", "s", "b");
    char *out = NULL;
    assert_int_equal(sg_engine_learn(h->engine, ev, "eggs", 0, &out), SG_EINVAL);
    assert_int_equal(sg_engine_learn(h->engine, ev, NULL, 0, &out), SG_EINVAL);
    assert_null(out);
    sg_event_free(ev);
    const char *acct = "{\"type\":\"account\",\"tenant\":\"t1\",\"account\":\"a\"}";
    assert_int_equal(sg_event_parse(acct, strlen(acct), -1, &ev, NULL), 0);
    assert_int_equal(sg_engine_learn(h->engine, ev, "spam", 0, &out), SG_EINVAL);
    sg_event_free(ev);
    assert_int_equal(sg_engine_learn_id(h->engine, "t1", "m1", "SPAM", 0, &out), SG_EINVAL);
    assert_int_equal(sg_engine_learn_id(h->engine, "", "m1", "spam", 0, &out), SG_EINVAL);
    harness_free(h);
}

static void remove_store(const char *dir, const char *path)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Once sg_engine_learn returns, the counts and the record are committed (another connection
 * sees them), and a new engine on the same file knows both. */
static void survives_restart(void **state)
{
    char dir[] = "/tmp/sg-learn-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/s.db", dir);
    sg_time now = H_T0;
    struct sg_clock clock = {harness_fixed_clock, &now};
    struct sg_config *cfg;
    assert_int_equal(sg_config_new(&cfg), 0);
    for (int round = 0; round < 2; round++) {
        struct sg_store *store;
        struct sg_engine *e;
        assert_int_equal(sg_store_open(path, &store), 0);
        assert_int_equal(sg_engine_new(cfg, store, &clock, &e), 0);
        json_t *j = learn(e, "t1", "m1", "spam", 0);
        /* Round 1 is after the restart: the message is known, and its counts loaded. */
        assert_string_equal(j_str(j, "status"), round == 0 ? "learned" : "already_learned");
        assert_int_equal(count(j, "tenant_class", "spam"), 1);
        assert_int_equal(count(j, "global", "spam"), 1);
        json_decref(j);
        assert_int_equal(file_query_int(path, "SELECT spam_msgs FROM bayes_scopes WHERE scope = 't1'"), 1);
        assert_int_equal(file_query_int(path, "SELECT spam_msgs FROM bayes_scopes WHERE scope = '*'"), 1);
        assert_int_equal(file_query_int(path, "SELECT count(*) FROM bayes_learned WHERE tenant = 't1'"
                                     " AND message = 'm1' AND class = 1 AND global = 1"), 1);
        assert_true(file_query_int(path, "SELECT count(*) FROM bayes_tokens WHERE scope = 't1'") > 5);
        sg_engine_free(e);
        sg_store_close(store);
    }
    sg_config_free(cfg);
    remove_store(dir, path);
}

/* A store made before migration 4 gains the table (and every later migration) on open. */
static void migrates_a_version_3_store(void **state)
{
    char dir[] = "/tmp/sg-learn-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/s.db", dir);
    struct sg_store *store;
    assert_int_equal(sg_store_open(path, &store), 0);
    sg_store_close(store);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE bayes_learned; DROP TABLE seen_domains;"
                                      " DROP TABLE bayes_snapshots;"
                                      " ALTER TABLE bayes_scopes DROP COLUMN generation;"
                                      " ALTER TABLE accounts DROP COLUMN messages;"
                                      " ALTER TABLE verdicts DROP COLUMN url_domains;"
                                      " PRAGMA user_version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(file_query_int(path, "PRAGMA user_version"), 3);
    sg_time now = H_T0;
    struct sg_clock clock = {harness_fixed_clock, &now};
    struct sg_config *cfg;
    struct sg_engine *e;
    assert_int_equal(sg_config_new(&cfg), 0);
    assert_int_equal(sg_store_open(path, &store), 0);
    assert_int_equal(sg_engine_new(cfg, store, &clock, &e), 0);
    json_decref(learn(e, "t1", "m1", "ham", 0));
    sg_engine_free(e);
    sg_store_close(store);
    sg_config_free(cfg);
    assert_int_equal(file_query_int(path, "PRAGMA user_version"), sg__schema_latest());
    assert_int_equal(file_query_int(path, "SELECT count(*) FROM bayes_learned"), 1);
    remove_store(dir, path);
}

static const char *const spam_texts[] = {
    "Claim your free bitcoin prize now, winner",
    "You are a winner: claim the bitcoin prize today",
    "Free prize waiting, claim your bitcoin reward now",
    "Winner notice: your free bitcoin prize, claim now",
    "Bitcoin prize for the lucky winner, claim free today",
    "Claim now: free bitcoin reward, you are the winner",
};
static const char *const ham_texts[] = {
    "Notes from the Tuesday meeting and the agenda for next week",
    "Can we move the project review to Thursday afternoon",
    "Attached are the minutes of the board meeting",
    "The agenda for the review meeting is in the shared folder",
    "Thanks for the notes, see you at the Thursday meeting",
    "Project status: the review went well, minutes attached",
};

#define PROBE "{\"type\":\"message\",\"tenant\":\"t1\",\"id\":\"%s\",\"channel\":\"email\"," \
              "\"sender\":\"s\",\"recipients\":[\"r\"],\"subject\":\"Hello\",\"body\":\"%s\"}"

/* What the feature is for: after enough moderation the bayes check flags similar spam. */
static void learning_makes_the_check_speak(void **state)
{
    struct harness *h = harness_new("bayes:\n  min_spam: 6\n  min_ham: 6\n");
    const char *lure = "Winner! Claim your free bitcoin prize now";
    json_t *r = harness_submit(h, SG_SUBMIT_DRY_RUN, PROBE, "p0", lure);
    assert_false(j_has_reason(r, "BAYES_SPAM")); /* untrained */
    json_decref(r);
    json_t *j = NULL;
    for (int i = 0; i < 6; i++) {
        char id[16];
        struct sg_event *ev;
        char *out;
        snprintf(id, sizeof id, "s%d", i);
        ev = message("t1", id, "Hello", spam_texts[i]);
        assert_int_equal(sg_engine_learn(h->engine, ev, "spam", 0, &out), 0);
        sg_event_free(ev);
        sg_free(out);
        snprintf(id, sizeof id, "h%d", i);
        ev = message("t1", id, "Hello", ham_texts[i]);
        assert_int_equal(sg_engine_learn(h->engine, ev, "ham", 0, &out), 0);
        sg_event_free(ev);
        json_decref(j);
        json_error_t jerr;
        j = json_loads(out, 0, &jerr);
        sg_free(out);
    }
    assert_true(json_is_true(json_object_get(json_object_get(j, "tenant_class"), "trained")));
    assert_true(json_is_true(json_object_get(json_object_get(j, "global"), "trained")));
    json_decref(j);
    r = harness_submit(h, SG_SUBMIT_DRY_RUN, PROBE, "p1", lure);
    assert_true(j_has_reason(r, "BAYES_SPAM"));
    json_decref(r);
    r = harness_submit(h, SG_SUBMIT_DRY_RUN, PROBE, "p2",
                       "Minutes of the Thursday review meeting attached");
    assert_false(j_has_reason(r, "BAYES_SPAM"));
    json_decref(r);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learn_counts_once),
        cmocka_unit_test(correction_moves),
        cmocka_unit_test(tenant_only_and_corrections_follow_the_first_learn),
        cmocka_unit_test(concurrent_learns_count_once),
        cmocka_unit_test(learn_by_id_needs_content),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(survives_restart),
        cmocka_unit_test(migrates_a_version_3_store),
        cmocka_unit_test(learning_makes_the_check_speak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
