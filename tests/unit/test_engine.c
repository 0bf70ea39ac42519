/* The engine pipeline: the verdict's JSON shape, scores summed against per-channel thresholds,
 * dry runs that record nothing, acknowledgements, and state that survives a restart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store/store.h"
#include "support/engine_harness.h"

static void verdict_shape(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    json_t *r = harness_pm(h, "forum", "m1", "a", "\"u1\",\"u2\"", "hello");
    assert_string_equal(j_str(r, "id"), "m1");
    assert_action(r, "allow");
    assert_true(json_is_number(json_object_get(r, "score")));
    assert_true(json_is_null(json_object_get(r, "retry_after")));
    assert_true(json_is_null(json_object_get(r, "campaign")));
    assert_true(json_is_array(json_object_get(r, "reasons")));
    assert_string_equal(j_str(r, "tenant"), "forum");
    assert_string_equal(j_str(r, "channel"), "private_message");
    assert_string_equal(j_str(r, "at"), "2026-11-23T00:00:00Z");
    json_decref(r);
    harness_free(h);
}

static double reason_score(json_t *res, const char *code)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "reasons"), i, r) if (strcmp(j_str(r, "code"), code) == 0) return json_number_value(json_object_get(r, "score"));
    return -1;
}

static double reasons_sum(json_t *res)
{
    size_t i;
    json_t *r;
    double sum = 0;
    json_array_foreach(json_object_get(res, "reasons"), i, r) sum += json_number_value(json_object_get(r, "score"));
    return sum;
}

static void scores_and_thresholds(void **state)
{
    /* TRUST_NEW_ACCOUNT_LINK forces a hold; with score 7 and the comment channel's reject at 6
     * the sum decides reject instead. (The link's domain is new to the tenant, so the content
     * rules add a little too: the score is the sum of the reasons.) */
    struct harness *h = harness_new("channels:\n  comment:\n    trust:\n      link_min_age: 1d\n"
                                    "    hold: 3\n    reject: 6\n"
                                    "scores:\n  TRUST_NEW_ACCOUNT_LINK: 7\n");
    harness_account(h, "f", "new", 0, 60);
    json_t *r = harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"f\",\"id\":\"c1\",\"channel\":\"comment\","
                                     "\"sender\":\"new\",\"recipients\":[\"t\"],\"body\":\"http://x.example\"}");
    assert_action(r, "reject");
    assert_true(reason_score(r, "TRUST_NEW_ACCOUNT_LINK") == 7.0);
    assert_true(json_number_value(json_object_get(r, "score")) == reasons_sum(r));
    json_decref(r);
    harness_free(h);
    /* With the default score 5 and default thresholds, the same finding holds. */
    h = harness_new("channels:\n  comment:\n    trust:\n      link_min_age: 1d\n");
    harness_account(h, "f", "new", 0, 60);
    r = harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"f\",\"id\":\"c1\",\"channel\":\"comment\","
                             "\"sender\":\"new\",\"recipients\":[\"t\"],\"body\":\"http://x.example\"}");
    assert_action(r, "hold");
    assert_true(reason_score(r, "TRUST_NEW_ACCOUNT_LINK") == 5.0);
    assert_true(json_number_value(json_object_get(r, "score")) == reasons_sum(r));
    assert_true(reasons_sum(r) < 10); /* held for the moderator, not rejected */
    json_decref(r);
    harness_free(h);
}

static void dry_run_records_nothing(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    json_t *r = harness_submit(h, SG_SUBMIT_DRY_RUN,
                               "{\"type\":\"message\",\"tenant\":\"forum\",\"id\":\"x\",\"channel\":\"private_message\","
                               "\"sender\":\"stranger\",\"recipients\":[\"u\"],\"body\":\"x\"}");
    assert_action(r, "reject"); /* unknown sender: no posts */
    json_decref(r);
    int64_t n = -1;
    assert_int_equal(sg__store_verdict_count(h->store, &n), 0);
    assert_int_equal(n, 0);
    /* The stranger was not created by the dry run. */
    char buf[2048];
    struct sg_account_row row;
    assert_int_equal(sg__store_account_get(h->store, "forum", "stranger", &row, buf, sizeof buf), SG_ENOTFOUND);
    r = harness_pm(h, "forum", "m1", "a", "\"u\"", "x");
    json_decref(r);
    assert_int_equal(sg__store_verdict_count(h->store, &n), 0);
    assert_int_equal(n, 1);
    char *json;
    assert_int_equal(sg__store_verdict_get(h->store, "forum", "m1", &json), 0);
    assert_non_null(strstr(json, "\"action\":\"allow\""));
    sg_free(json);
    harness_free(h);
}

static void acknowledgements(void **state)
{
    struct harness *h = harness_new(NULL);
    json_t *r = harness_submit(h, 0, "{\"type\":\"tenant\",\"tenant\":\"clinic\",\"timezone\":\"Europe/Amsterdam\"}");
    assert_string_equal(j_str(r, "type"), "tenant");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    r = harness_submit(h, 0, "{\"type\":\"report\",\"tenant\":\"clinic\",\"message\":\"m9\",\"reporter\":\"p1\"}");
    assert_string_equal(j_str(r, "type"), "report");
    assert_string_equal(j_str(r, "message"), "m9");
    json_decref(r);
    r = harness_submit(h, 0, "{\"type\":\"review\",\"tenant\":\"clinic\",\"message\":\"m9\",\"decision\":\"spam\"}");
    assert_string_equal(j_str(r, "type"), "review");
    json_decref(r);
    harness_free(h);
}

static void state_survives_restart(void **state)
{
    char dir[] = "/tmp/sg-engine-XXXXXX";
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
        const char *events[] = {
            "{\"type\":\"account\",\"tenant\":\"f\",\"account\":\"a\",\"email\":\"a@example.org\",\"created_at\":\"2026-01-01T00:00:00Z\"}",
            "{\"type\":\"activity\",\"tenant\":\"f\",\"account\":\"a\"}",
            "{\"type\":\"activity\",\"tenant\":\"f\",\"account\":\"a\"}",
        };
        const char *pm = "{\"type\":\"message\",\"tenant\":\"f\",\"id\":\"m\",\"channel\":\"private_message\","
                         "\"sender\":\"a\",\"recipients\":[\"u\"],\"body\":\"x\"}";
        if (round == 0) {
            for (size_t i = 0; i < 3; i++) {
                struct sg_event *ev;
                struct sg_result *res;
                assert_int_equal(sg_event_parse(events[i], strlen(events[i]), -1, &ev, NULL), 0);
                assert_int_equal(sg_engine_submit(e, ev, 0, &res), 0);
                sg_result_free(res);
                sg_event_free(ev);
            }
        }
        /* Round 0 sends two (the limit); after the restart, posts and the limiter state were
         * kept, so the third private message is deferred. */
        for (int i = 0; i < (round == 0 ? 2 : 1); i++) {
            struct sg_event *ev;
            struct sg_result *res;
            assert_int_equal(sg_event_parse(pm, strlen(pm), -1, &ev, NULL), 0);
            assert_int_equal(sg_engine_submit(e, ev, 0, &res), 0);
            assert_int_equal(sg_result_action(res), round == 0 ? SG_ALLOW : SG_DEFER);
            sg_result_free(res);
            sg_event_free(ev);
        }
        sg_engine_free(e);
        sg_store_close(store);
        now += 5 * H_SEC;
    }
    sg_config_free(cfg);
    unlink(path);
    char side[80];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    rmdir(dir);
}

/* SG_SUBMIT_DURABLE: once submit returns, another connection sees the verdict (it is in the WAL,
 * so a kill -9 right after the answer cannot lose it); without it the write may still be queued. */
static void durable_submit_is_committed(void **state)
{
    char dir[] = "/tmp/sg-durable-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/s.db", dir);
    sg_time now = H_T0;
    struct sg_clock clock = {harness_fixed_clock, &now};
    struct sg_config *cfg;
    struct sg_store *store;
    struct sg_engine *e;
    assert_int_equal(sg_config_new(&cfg), 0);
    assert_int_equal(sg_store_open(path, &store), 0);
    assert_int_equal(sg_engine_new(cfg, store, &clock, &e), 0);
    sqlite3 *peer;
    assert_int_equal(sqlite3_open(path, &peer), SQLITE_OK);
    for (int i = 0; i < 20; i++) {
        char json[256];
        int n = snprintf(json, sizeof json, "{\"type\":\"message\",\"tenant\":\"c\",\"id\":\"m%d\","
                                            "\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"p\"]}", i);
        struct sg_event *ev;
        struct sg_result *res;
        assert_int_equal(sg_event_parse(json, (size_t)n, -1, &ev, NULL), 0);
        assert_int_equal(sg_engine_submit(e, ev, SG_SUBMIT_DURABLE, &res), 0);
        sg_result_free(res);
        sg_event_free(ev);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(peer, "SELECT count(*) FROM verdicts", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), i + 1);
        sqlite3_finalize(st);
    }
    sqlite3_close(peer);
    sg_engine_free(e);
    sg_store_close(store);
    sg_config_free(cfg);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[80];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdict_shape),
        cmocka_unit_test(scores_and_thresholds),
        cmocka_unit_test(dry_run_records_nothing),
        cmocka_unit_test(acknowledgements),
        cmocka_unit_test(state_survives_restart),
        cmocka_unit_test(durable_submit_is_committed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
