/* Trust gating: the two-posts rule, account age, verified email, and links from new accounts,
 * with reasons a platform can show its user. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/engine_harness.h"

static void two_posts_rule(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "zero", 0, 30 * 86400);
    harness_account(h, "forum", "one", 1, 30 * 86400);
    harness_account(h, "forum", "two", 2, 30 * 86400);
    json_t *r = harness_pm(h, "forum", "m1", "zero", "\"u9\"", "hello");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "TRUST_MIN_POSTS"));
    assert_non_null(strstr(j_reason_message(r, "TRUST_MIN_POSTS"),
                           "You can send private messages after you have posted twice"));
    json_decref(r);
    r = harness_pm(h, "forum", "m2", "one", "\"u9\"", "hello");
    assert_action(r, "reject");
    assert_non_null(strstr(j_reason_message(r, "TRUST_MIN_POSTS"), "you have posted 1 time)"));
    json_decref(r);
    r = harness_pm(h, "forum", "m3", "two", "\"u9\"", "hello");
    assert_action(r, "allow");
    assert_int_equal(json_array_size(json_object_get(r, "reasons")), 0);
    json_decref(r);
    /* Other channels have no posts gate by default. */
    r = harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"forum\",\"id\":\"m4\",\"channel\":\"comment\","
                             "\"sender\":\"zero\",\"recipients\":[\"thread-1\"],\"body\":\"hi\"}");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void activity_kinds(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "a", 0, 30 * 86400);
    /* Logins do not count as posts; replies do. */
    json_decref(harness_submit(h, 0, "{\"type\":\"activity\",\"tenant\":\"forum\",\"account\":\"a\",\"kind\":\"login\"}"));
    json_decref(harness_submit(h, 0, "{\"type\":\"activity\",\"tenant\":\"forum\",\"account\":\"a\",\"kind\":\"login\"}"));
    json_t *r = harness_pm(h, "forum", "m1", "a", "\"u9\"", "hello");
    assert_action(r, "reject");
    json_decref(r);
    json_decref(harness_submit(h, 0, "{\"type\":\"activity\",\"tenant\":\"forum\",\"account\":\"a\",\"kind\":\"reply\"}"));
    json_decref(harness_submit(h, 0, "{\"type\":\"activity\",\"tenant\":\"forum\",\"account\":\"a\"}"));
    r = harness_pm(h, "forum", "m2", "a", "\"u9\"", "hello");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void links_from_new_accounts_held(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "new", 2, 3600);           /* one hour old */
    harness_account(h, "forum", "old", 2, 2 * 86400);      /* two days old */
    json_t *r = harness_pm(h, "forum", "m1", "new", "\"u1\"", "see https://bird-notes.io/win");
    assert_action(r, "hold");
    assert_true(j_has_reason(r, "TRUST_NEW_ACCOUNT_LINK"));
    assert_non_null(strstr(j_reason_message(r, "TRUST_NEW_ACCOUNT_LINK"), "24 hours"));
    json_decref(r);
    r = harness_pm(h, "forum", "m2", "new", "\"u2\"", "visit www.example.com today");
    assert_action(r, "hold");
    json_decref(r);
    r = harness_pm(h, "forum", "m3", "new", "\"u3\"", "no link here, just text.");
    assert_action(r, "allow");
    json_decref(r);
    r = harness_pm(h, "forum", "m4", "old", "\"u4\"", "see https://example.com/page");
    assert_action(r, "allow");
    json_decref(r);
    /* The link gate ends exactly at 24 hours of age. */
    h->now += 23 * 3600 * H_SEC;
    r = harness_pm(h, "forum", "m5", "new", "\"u5\"", "https://example.com");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

/* "Has links" is the content's URL list (one extractor for the trust gate and the rules), so
 * links written without a scheme or defanged count, and dotted numbers or file names do not. */
static void schemeless_and_defanged_links_count(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "forum", "new", 2, 3600);
    const char *held[] = {
        "claim it at claim-nft.io/win before midnight",
        "go to claim-prize[.]com now",
        "hxxps://claim-nft.io/win",
        "<a href=\\\"https://claim-nft.io\\\">here</a>",
    };
    char id[16];
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
        h->now += 60 * H_SEC;
        snprintf(id, sizeof id, "h%zu", i);
        json_t *r = harness_pm(h, "forum", id, "new", "\"u1\"", held[i]);
        if (!j_has_reason(r, "TRUST_NEW_ACCOUNT_LINK"))
            fail_msg("no link seen in: %s", held[i]);
        json_decref(r);
    }
    const char *plain[] = {"see you at 10.30 tomorrow", "the file is notes.txt, version 2.1"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        h->now += 60 * H_SEC;
        snprintf(id, sizeof id, "p%zu", i);
        json_t *r = harness_pm(h, "forum", id, "new", "\"u1\"", plain[i]);
        if (j_has_reason(r, "TRUST_NEW_ACCOUNT_LINK"))
            fail_msg("a link seen in: %s", plain[i]);
        json_decref(r);
    }
    harness_free(h);
}

static void age_and_verified_gates(void **state)
{
    struct harness *h = harness_new("channels:\n  email:\n    trust:\n      min_account_age: 2d\n"
                                    "      require_verified: true\n");
    harness_account(h, "clinic", "staff", 0, 86400);
    json_t *r = harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"clinic\",\"id\":\"e1\",\"channel\":\"email\","
                                     "\"sender\":\"staff\",\"recipients\":[\"p1\"],\"subject\":\"Reminder\"}");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "TRUST_MIN_ACCOUNT_AGE"));
    assert_non_null(strstr(j_reason_message(r, "TRUST_MIN_ACCOUNT_AGE"), "48 hours old"));
    assert_true(j_has_reason(r, "TRUST_UNVERIFIED"));
    json_decref(r);
    json_decref(harness_submit(h, 0, "{\"type\":\"account\",\"tenant\":\"clinic\",\"account\":\"staff\",\"verified\":true}"));
    h->now += 86400 * H_SEC;
    r = harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"clinic\",\"id\":\"e2\",\"channel\":\"email\","
                             "\"sender\":\"staff\",\"recipients\":[\"p1\"],\"subject\":\"Reminder\"}");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void tenant_override(void **state)
{
    struct harness *h = harness_new("tenants:\n  open-forum:\n    channels:\n      private_message:\n"
                                    "        trust:\n          min_posts: 0\n");
    harness_account(h, "open-forum", "a", 0, 30 * 86400);
    harness_account(h, "strict-forum", "a", 0, 30 * 86400);
    json_t *r = harness_pm(h, "open-forum", "m1", "a", "\"u\"", "hi");
    assert_action(r, "allow");
    json_decref(r);
    r = harness_pm(h, "strict-forum", "m1", "a", "\"u\"", "hi");
    assert_action(r, "reject");
    json_decref(r);
    harness_free(h);
}

static void unknown_sender_is_new(void **state)
{
    /* A sender never declared has no posts and no age: every gate applies. */
    struct harness *h = harness_new(NULL);
    json_t *r = harness_pm(h, "forum", "m1", "ghost", "\"u\"", "https://x.example");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "TRUST_MIN_POSTS"));
    assert_true(j_has_reason(r, "TRUST_NEW_ACCOUNT_LINK"));
    json_decref(r);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_posts_rule),
        cmocka_unit_test(activity_kinds),
        cmocka_unit_test(links_from_new_accounts_held),
        cmocka_unit_test(schemeless_and_defanged_links_count),
        cmocka_unit_test(age_and_verified_gates),
        cmocka_unit_test(tenant_override),
        cmocka_unit_test(unknown_sender_is_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
