/* The rate-limit check through the engine: defer with an exact retry_after, several windows,
 * scopes (sender, tenant, recipient for new accounts, ip), cost by recipients, and no charge for
 * messages that end up held, rejected or deferred. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/engine_harness.h"

static json_int_t retry(json_t *r) { return json_integer_value(json_object_get(r, "retry_after")); }

static void two_a_minute(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    int allowed = 0, deferred = 0;
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        json_t *r = harness_pm(h, "forum", id, "a", "\"u1\"", "hello");
        if (strcmp(j_str(r, "action"), "allow") == 0) {
            allowed++;
        } else {
            assert_action(r, "defer");
            assert_true(j_has_reason(r, "RATE_SENDER"));
            /* GCRA: 2 per 60 s is one every 30 s after a burst of 2; at t0+i the next slot is t0+30. */
            assert_int_equal(retry(r), 30 - i);
            deferred++;
        }
        json_decref(r);
        h->now += H_SEC;
    }
    assert_int_equal(allowed, 2);
    assert_int_equal(deferred, 8);
    harness_free(h);
}

static void retry_after_is_exact(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    json_decref(harness_pm(h, "forum", "m1", "a", "\"u1\"", "1"));
    json_decref(harness_pm(h, "forum", "m2", "a", "\"u1\"", "2"));
    json_t *r = harness_pm(h, "forum", "m3", "a", "\"u1\"", "3");
    assert_action(r, "defer");
    assert_int_equal(retry(r), 30);
    assert_non_null(strstr(j_reason_message(r, "RATE_SENDER"), "at most 2 private messages a minute"));
    json_decref(r);
    /* One microsecond early is still too early; at exactly retry_after it goes. */
    h->now += 30 * H_SEC - 1;
    r = harness_pm(h, "forum", "m4", "a", "\"u1\"", "4");
    assert_action(r, "defer");
    assert_int_equal(retry(r), 1);
    json_decref(r);
    h->now += 1;
    r = harness_pm(h, "forum", "m5", "a", "\"u1\"", "5");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void hour_window_binds(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    /* One message every 30 s never trips 2/min. The hour window (20/h: one per 180 s, burst 20)
     * lets message k at 30(k-1) s through while k*180 - 3600 <= 30(k-1), i.e. k <= 23. */
    for (int i = 0; i < 23; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        json_t *r = harness_pm(h, "forum", id, "a", "\"u1\"", "x");
        assert_action(r, "allow");
        json_decref(r);
        h->now += 30 * H_SEC;
    }
    json_t *r = harness_pm(h, "forum", "m23", "a", "\"u1\"", "x");
    assert_action(r, "defer");
    assert_non_null(strstr(j_reason_message(r, "RATE_SENDER"), "20 private messages an hour"));
    assert_int_equal(retry(r), 30); /* 24*180 - 3600 = 720 s, now 690 s */
    json_decref(r);
    harness_free(h);
}

static void refused_messages_are_not_charged(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 3600); /* new: links are held */
    /* Held messages (links from a new account) do not use up the rate. */
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "h%d", i);
        json_t *r = harness_pm(h, "forum", id, "a", "\"u1\"", "https://example.com");
        assert_action(r, "hold");
        json_decref(r);
    }
    json_t *r = harness_pm(h, "forum", "ok1", "a", "\"u1\"", "plain");
    assert_action(r, "allow");
    json_decref(r);
    r = harness_pm(h, "forum", "ok2", "a", "\"u1\"", "plain");
    assert_action(r, "allow");
    json_decref(r);
    /* Deferred messages are not charged either: the third waits 30 s whatever happened. */
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        r = harness_pm(h, "forum", id, "a", "\"u1\"", "plain");
        assert_action(r, "defer");
        assert_int_equal(retry(r), 30);
        json_decref(r);
    }
    harness_free(h);
}

static void dry_run_moves_nothing(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    for (int i = 0; i < 5; i++) {
        json_t *r = harness_submit(h, SG_SUBMIT_DRY_RUN,
                                   "{\"type\":\"message\",\"tenant\":\"forum\",\"id\":\"x\",\"channel\":\"private_message\","
                                   "\"sender\":\"a\",\"recipients\":[\"u\"],\"body\":\"x\"}");
        assert_action(r, "allow");
        json_decref(r);
    }
    char *json;
    assert_int_equal(sg_engine_limit_show(h->engine, "sender", "forum/private_message/a", &json), 0);
    assert_non_null(strstr(json, "\"active\":false"));
    sg_free(json);
    harness_free(h);
}

static void recipient_scope_counts_new_accounts_only(void **state)
{
    struct harness *h = harness_new(NULL);
    /* Six fresh accounts (2 posts each) write to one member: the recipient scope allows 5 an hour. */
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "new%d", i);
        harness_account(h, "forum", id, 2, 3600);
    }
    harness_account(h, "forum", "veteran", 2, 365 * 86400);
    for (int i = 0; i < 5; i++) {
        char id[16], sender[16];
        snprintf(id, sizeof id, "m%d", i);
        snprintf(sender, sizeof sender, "new%d", i);
        json_t *r = harness_pm(h, "forum", id, sender, "\"victim\"", "hi");
        assert_action(r, "allow");
        json_decref(r);
    }
    json_t *r = harness_pm(h, "forum", "m5", "new5", "\"victim\"", "hi");
    assert_action(r, "defer");
    assert_true(j_has_reason(r, "RATE_RECIPIENT"));
    assert_non_null(strstr(j_reason_message(r, "RATE_RECIPIENT"), "victim"));
    json_decref(r);
    /* An established member still reaches the recipient. */
    r = harness_pm(h, "forum", "m6", "veteran", "\"victim\"", "hi");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void ip_and_tenant_scopes_and_cost(void **state)
{
    struct harness *h = harness_new("channels:\n  email:\n    limits:\n"
                                    "      ip:\n        rates: [\"3/1m\"]\n"
                                    "      tenant:\n        rates: [\"10/1h\"]\n        cost: recipients\n"
                                    "      sender:\n        rates: []\n");
    harness_account(h, "clinic", "staff", 0, 365 * 86400);
#define fmt "{\"type\":\"message\",\"tenant\":\"clinic\",\"id\":\"%s\",\"channel\":\"email\"," \
            "\"sender\":\"staff\",\"recipients\":[%s],\"ip\":\"%s\",\"subject\":\"s\"}"
    json_t *r;
    for (int i = 0; i < 3; i++) {
        r = harness_submit(h, 0, fmt, "e", "\"p1\"", "192.0.2.7");
        assert_action(r, "allow");
        json_decref(r);
    }
    r = harness_submit(h, 0, fmt, "e4", "\"p1\"", "192.0.2.7");
    assert_action(r, "defer");
    assert_true(j_has_reason(r, "RATE_IP"));
    json_decref(r);
    /* Another address is its own key. Seven recipients fit the tenant's 10 (3 used)... */
    r = harness_submit(h, 0, fmt, "e5", "\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"", "192.0.2.8");
    assert_action(r, "allow");
    json_decref(r);
    /* ...and one more recipient does not. */
    r = harness_submit(h, 0, fmt, "e6", "\"z\"", "192.0.2.9");
    assert_action(r, "defer");
    assert_true(j_has_reason(r, "RATE_TENANT"));
    json_decref(r);
    /* More recipients than the whole window holds can never be sent: reject, not defer. */
    r = harness_submit(h, 0, fmt, "e7", "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"", "192.0.2.10");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "RATE_OVER_CAPACITY"));
    json_decref(r);
    harness_free(h);
#undef fmt
}

static void limit_show_and_reset(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 2, 30 * 86400);
    json_decref(harness_pm(h, "forum", "m1", "a", "\"u1\"", "x"));
    json_decref(harness_pm(h, "forum", "m2", "a", "\"u1\"", "x"));
    char *json;
    assert_int_equal(sg_engine_limit_show(h->engine, "sender", "forum/private_message/a", &json), 0);
    json_t *j = json_loads(json, 0, NULL);
    sg_free(json);
    json_t *w0 = json_array_get(json_object_get(j, "windows"), 0);
    assert_int_equal(json_integer_value(json_object_get(w0, "limit")), 2);
    assert_int_equal(json_integer_value(json_object_get(w0, "period")), 60);
    assert_true(json_number_value(json_object_get(w0, "used")) == 2.0);
    assert_int_equal(json_integer_value(json_object_get(w0, "retry_after")), 30);
    assert_int_equal(json_array_size(json_object_get(j, "windows")), 3);
    json_decref(j);
    assert_int_equal(sg_engine_limit_show(h->engine, "sender", "no-slash", &json), SG_EINVAL);
    assert_int_equal(sg_engine_limit_show(h->engine, "bogus", "forum/private_message/a", &json), SG_EINVAL);
    assert_int_equal(sg_engine_limit_show(h->engine, "sender", "forum/nochannel/a", &json), SG_EINVAL);
    assert_int_equal(sg_engine_limit_reset(h->engine, "sender", "forum/private_message/a"), 0);
    assert_int_equal(sg_engine_limit_reset(h->engine, "sender", "forum/private_message/a"), SG_ENOTFOUND);
    json_t *r = harness_pm(h, "forum", "m3", "a", "\"u1\"", "x");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_a_minute),
        cmocka_unit_test(retry_after_is_exact),
        cmocka_unit_test(hour_window_binds),
        cmocka_unit_test(refused_messages_are_not_charged),
        cmocka_unit_test(dry_run_moves_nothing),
        cmocka_unit_test(recipient_scope_counts_new_accounts_only),
        cmocka_unit_test(ip_and_tenant_scopes_and_cost),
        cmocka_unit_test(limit_show_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
