/* The lists check through the engine: banned accounts, blocked signup domains (and their
 * subdomains), blocked IPs and CIDRs in v4 and v6, blocked link domains, per tenant or global,
 * with expiry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/engine_harness.h"

static void add(struct harness *h, const char *list, const char *tenant, const char *entry, sg_time expires)
{
    assert_int_equal(sg_store_list_add(h->store, list, tenant, entry, expires, h->now), 0);
    assert_int_equal(sg_engine_reload_lists(h->engine), 0);
}

static json_t *email_from(struct harness *h, const char *sender, const char *ip)
{
    return harness_submit(h, 0,
                          "{\"type\":\"message\",\"tenant\":\"t1\",\"id\":\"m\",\"channel\":\"comment\","
                          "\"sender\":\"%s\",\"recipients\":[\"r\"],\"body\":\"hi\",\"ip\":\"%s\"}",
                          sender, ip);
}

static void banned_account(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "t1", "bad", 5, 86400 * 30);
    harness_account(h, "t1", "good", 5, 86400 * 30);
    add(h, "accounts", "t1", "bad", 0);
    json_t *r = email_from(h, "bad", "192.0.2.1");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "LIST_BANNED_ACCOUNT"));
    json_decref(r);
    r = email_from(h, "good", "192.0.2.1");
    assert_action(r, "allow");
    json_decref(r);
    /* A ban in another tenant does not reach this one; a global ban does. */
    add(h, "accounts", "t2", "good", 0);
    r = email_from(h, "good", "192.0.2.1");
    assert_action(r, "allow");
    json_decref(r);
    add(h, "accounts", "*", "good", 0);
    r = email_from(h, "good", "192.0.2.1");
    assert_action(r, "reject");
    json_decref(r);
    harness_free(h);
}

static void ban_rejects_whatever_the_score(void **state)
{
    /* A hard rule rejects even when scores are configured to zero. */
    struct harness *h = harness_new("scores:\n  LIST_BANNED_ACCOUNT: 0\n");
    harness_account(h, "t1", "bad", 5, 86400 * 30);
    add(h, "accounts", "*", "bad", 0);
    json_t *r = email_from(h, "bad", "192.0.2.1");
    assert_action(r, "reject");
    assert_true(json_number_value(json_object_get(r, "score")) == 0.0);
    json_decref(r);
    harness_free(h);
}

static void blocked_email_domain(void **state)
{
    struct harness *h = harness_new(NULL);
    add(h, "email_domains", "*", "spam-signups.example", 0);
    json_t *r = harness_submit(h, 0, "{\"type\":\"account\",\"tenant\":\"t1\",\"account\":\"x1\","
                                     "\"email\":\"x1@mail.Spam-Signups.example\"}");
    assert_action(r, "block");
    assert_true(j_has_reason(r, "LIST_BLOCKED_EMAIL_DOMAIN"));
    assert_non_null(strstr(j_reason_message(r, "LIST_BLOCKED_EMAIL_DOMAIN"), "spam-signups.example"));
    json_decref(r);
    /* The blocked account's messages are refused too. */
    r = email_from(h, "x1", "192.0.2.1");
    assert_action(r, "reject");
    json_decref(r);
    /* A domain blocked after signup still stops the sender's messages. */
    harness_account(h, "t1", "y", 5, 86400 * 30); /* y@example.org */
    r = email_from(h, "y", "192.0.2.1");
    assert_action(r, "allow");
    json_decref(r);
    add(h, "email_domains", "t1", "example.org", 0);
    r = email_from(h, "y", "192.0.2.1");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "LIST_BLOCKED_EMAIL_DOMAIN"));
    json_decref(r);
    /* "notexample.org" is not a subdomain of "example.org". */
    r = harness_submit(h, 0, "{\"type\":\"account\",\"tenant\":\"t1\",\"account\":\"z\",\"email\":\"z@notexample.org\"}");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void blocked_ips(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "t1", "a", 5, 86400 * 30);
    add(h, "ips", "*", "198.51.100.0/24", 0);
    add(h, "ips", "*", "2001:db8:bad::/48", 0);
    add(h, "ips", "*", "203.0.113.9", 0);
    const char *blocked[] = {"198.51.100.0", "198.51.100.255", "2001:db8:bad::1", "2001:db8:bad:ffff::9", "203.0.113.9"};
    const char *fine[] = {"198.51.101.0", "198.51.99.255", "2001:db8:bae::1", "203.0.113.10", "::1"};
    for (size_t i = 0; i < 5; i++) {
        json_t *r = email_from(h, "a", blocked[i]);
        assert_action(r, "reject");
        assert_true(j_has_reason(r, "LIST_BLOCKED_IP"));
        json_decref(r);
        r = email_from(h, "a", fine[i]);
        assert_action(r, "allow");
        json_decref(r);
    }
    /* Signups from a blocked network are blocked. */
    json_t *r = harness_submit(h, 0, "{\"type\":\"account\",\"tenant\":\"t1\",\"account\":\"n\",\"ip\":\"198.51.100.77\"}");
    assert_action(r, "block");
    json_decref(r);
    harness_free(h);
}

static json_t *email_with(struct harness *h, const char *tenant, const char *body)
{
    return harness_submit(h, 0,
                          "{\"type\":\"message\",\"tenant\":\"%s\",\"id\":\"m\",\"channel\":\"email\","
                          "\"sender\":\"a\",\"recipients\":[\"r\"],\"body\":\"%s\"}",
                          tenant, body);
}

/* A link to a blocked domain (or a subdomain of it), written any way the URL extractor reads,
 * rejects the message; the tenant's own entry binds only that tenant, a "*" entry everyone. */
static void blocked_url_domains(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    harness_account(h, "t1", "a", 5, 86400 * 30);
    harness_account(h, "t2", "a", 5, 86400 * 30);
    json_t *r = email_with(h, "t1", "Details at https://bird-notes.io/win");
    assert_action(r, "allow"); /* nothing listed yet */
    json_decref(r);
    add(h, "url_domains", "t1", "bird-notes.io", 0);
    add(h, "url_domains", "*", "evil.example", 0);
    const char *blocked[] = {"Details at https://bird-notes.io/win", "go to www.bird-notes.io now",
                             "see bird-notes[.]io/x", "https://login.evil.example/a"};
    for (size_t i = 0; i < 4; i++) {
        r = email_with(h, "t1", blocked[i]);
        assert_action(r, "reject");
        assert_true(j_has_reason(r, "LIST_BLOCKED_URL_DOMAIN"));
        json_decref(r);
    }
    r = email_with(h, "t2", "Details at https://bird-notes.io/win"); /* t1's entry only */
    assert_false(j_has_reason(r, "LIST_BLOCKED_URL_DOMAIN"));
    json_decref(r);
    r = email_with(h, "t2", "https://evil.example/");
    assert_true(j_has_reason(r, "LIST_BLOCKED_URL_DOMAIN"));
    json_decref(r);
    r = email_with(h, "t1", "https://notbird-notes.io/ and https://example.org/evil.example");
    assert_false(j_has_reason(r, "LIST_BLOCKED_URL_DOMAIN"));
    json_decref(r);
    harness_free(h);
}

static void expiry(void **state)
{
    struct harness *h = harness_new(NULL);
    harness_account(h, "t1", "a", 5, 86400 * 30);
    add(h, "accounts", "*", "a", h->now + 3600 * H_SEC);
    add(h, "ips", "*", "192.0.2.0/24", h->now + 60 * H_SEC);
    json_t *r = email_from(h, "a", "192.0.2.5");
    assert_action(r, "reject");
    assert_true(j_has_reason(r, "LIST_BANNED_ACCOUNT"));
    assert_true(j_has_reason(r, "LIST_BLOCKED_IP"));
    json_decref(r);
    h->now += 60 * H_SEC; /* the IP block ends exactly at its expiry */
    r = email_from(h, "a", "192.0.2.5");
    assert_false(j_has_reason(r, "LIST_BLOCKED_IP"));
    assert_true(j_has_reason(r, "LIST_BANNED_ACCOUNT"));
    json_decref(r);
    h->now += 3600 * H_SEC;
    r = email_from(h, "a", "192.0.2.5");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(banned_account),
        cmocka_unit_test(ban_rejects_whatever_the_score),
        cmocka_unit_test(blocked_email_domain),
        cmocka_unit_test(blocked_ips),
        cmocka_unit_test(blocked_url_domains),
        cmocka_unit_test(expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
