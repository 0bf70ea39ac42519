/* Fan-out: a new account reaching more than fanout.max_recipients distinct people within the
 * window is held; repeats to the same people do not count twice; old accounts are exempt. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/engine_harness.h"

#define CFG "channels:\n  comment:\n    fanout:\n      max_recipients: 3\n      window: 1h\n"

static json_t *comment(struct harness *h, const char *sender, const char *recipients)
{
    return harness_submit(h, 0, "{\"type\":\"message\",\"tenant\":\"f\",\"id\":\"c\",\"channel\":\"comment\","
                                "\"sender\":\"%s\",\"recipients\":[%s],\"body\":\"hi\"}", sender, recipients);
}

static void distinct_recipients_counted(void **state)
{
    struct harness *h = harness_new(CFG);
    harness_account(h, "f", "new", 0, 3600);
    json_t *r = comment(h, "new", "\"a\",\"b\"");
    assert_action(r, "allow");
    json_decref(r);
    r = comment(h, "new", "\"a\",\"b\",\"b\"");   /* the same people again */
    assert_action(r, "allow");
    json_decref(r);
    r = comment(h, "new", "\"c\"");
    assert_action(r, "allow");
    json_decref(r);
    r = comment(h, "new", "\"d\"");               /* the fourth distinct person */
    assert_action(r, "hold");
    assert_true(j_has_reason(r, "FANOUT_NEW_ACCOUNT"));
    json_decref(r);
    /* Held messages do not count: a, b, c are still the only ones reached. */
    r = comment(h, "new", "\"c\",\"a\"");
    assert_action(r, "allow");
    json_decref(r);
    /* An hour after the last, the window has emptied. */
    h->now += 3601 * H_SEC;
    r = comment(h, "new", "\"x\",\"y\",\"z\"");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void one_message_to_many(void **state)
{
    struct harness *h = harness_new(CFG);
    harness_account(h, "f", "new", 0, 60);
    json_t *r = comment(h, "new", "\"1\",\"2\",\"3\",\"4\"");
    assert_action(r, "hold");
    json_decref(r);
    harness_free(h);
}

static void old_accounts_exempt(void **state)
{
    struct harness *h = harness_new(CFG);
    harness_account(h, "f", "old", 0, 8 * 86400);
    json_t *r = comment(h, "old", "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"");
    assert_action(r, "allow");
    json_decref(r);
    harness_free(h);
}

static void shipped_default_private_messages(void **state)
{
    /* The shipped default holds a new account's 21st distinct private-message recipient. */
    struct harness *h = harness_new(NULL);
    harness_account(h, "f", "new", 2, 3 * 86400);
    for (int i = 0; i < 20; i++) {
        char id[8], rcpt[16];
        snprintf(id, sizeof id, "m%d", i);
        snprintf(rcpt, sizeof rcpt, "\"member%d\"", i);
        json_t *r = harness_pm(h, "f", id, "new", rcpt, "hello");
        assert_action(r, "allow");
        json_decref(r);
        h->now += 31 * H_SEC; /* under the 2/min limit */
    }
    json_t *r = harness_pm(h, "f", "m20", "new", "\"member20\"", "hello");
    assert_action(r, "hold");
    assert_true(j_has_reason(r, "FANOUT_NEW_ACCOUNT"));
    json_decref(r);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distinct_recipients_counted),
        cmocka_unit_test(one_message_to_many),
        cmocka_unit_test(old_accounts_exempt),
        cmocka_unit_test(shipped_default_private_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
