/* Event parsing: every type, the limits, and errors that name the field and what was expected. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/event.h"
#include "engine/policy.h"

static void expect_error(const char *json, int rc_want, const char *msg_want)
{
    struct sg_event *ev = NULL;
    char *err = NULL;
    int rc = sg_event_parse(json, strlen(json), -1, &ev, &err);
    if (rc != rc_want || !err || strcmp(err, msg_want) != 0)
        fprintf(stderr, "input: %s\n  got rc %d: %s\n  want rc %d: %s\n", json, rc, err ? err : "(null)",
                rc_want, msg_want);
    assert_int_equal(rc, rc_want);
    assert_null(ev);
    assert_non_null(err);
    assert_string_equal(err, msg_want);
    sg_free(err);
}

static void message_fields(void **state)
{
    const char *json = "{\"type\":\"message\",\"at\":\"2026-11-23T00:04:05Z\",\"tenant\":\"forum\",\"id\":\"m1\","
                       "\"channel\":\"private_message\",\"sender\":\"u1\",\"recipients\":[\"u2\",\"u3\"],"
                       "\"subject\":\"Hi\",\"body\":\"Hello\",\"template\":\"welcome\",\"ip\":\"2001:db8::1\","
                       "\"attachments\":[{\"name\":\"a.pdf\",\"type\":\"application/pdf\",\"size\":123}],"
                       "\"unknown_field\":{\"ignored\":[1,2,3]}}";
    struct sg_event *ev;
    char *err = NULL;
    assert_int_equal(sg_event_parse(json, strlen(json), -1, &ev, &err), 0);
    assert_null(err);
    assert_int_equal(sg_event_type(ev), SG_EV_MESSAGE);
    assert_true(sg_event_at(ev) == (sg_time)1795392245 * 1000000);
    assert_string_equal(ev->tenant, "forum");
    assert_int_equal(ev->channel, SG_CH_PRIVATE_MESSAGE);
    assert_int_equal(ev->nrecipients, 2);
    assert_string_equal(ev->recipients[1], "u3");
    assert_string_equal(ev->template_name, "welcome");
    assert_int_equal(ev->nattachments, 1);
    assert_int_equal(ev->attachments[0].size, 123);
    assert_string_equal(ev->attachments[0].type, "application/pdf");
    sg_event_free(ev);
}

static void default_type_for_check(void **state)
{
    const char *json = "{\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"r\"]}";
    struct sg_event *ev;
    assert_int_equal(sg_event_parse(json, strlen(json), SG_EV_MESSAGE, &ev, NULL), 0);
    assert_int_equal(sg_event_type(ev), SG_EV_MESSAGE);
    assert_true(sg_event_at(ev) == 0);
    sg_event_free(ev);
    expect_error(json, SG_EPARSE, "type: missing required field");
}

static void other_types(void **state)
{
    const char *ok[] = {
        "{\"type\":\"tenant\",\"tenant\":\"clinic\",\"timezone\":\"Europe/Amsterdam\",\"working_hours\":\"Mon-Fri 09:00-17:30\"}",
        ("{\"type\":\"account\",\"tenant\":\"t\",\"account\":\"a\",\"email\":\"a@b.c\",\"ip\":\"192.0.2.1\","
         "\"created_at\":\"2026-11-22T23:00:00+01:00\",\"verified\":false}"),
        "{\"type\":\"activity\",\"tenant\":\"t\",\"account\":\"a\",\"kind\":\"post\"}",
        "{\"type\":\"report\",\"tenant\":\"t\",\"message\":\"m1\",\"reporter\":\"u2\",\"reason\":\"phishing\"}",
        "{\"type\":\"review\",\"tenant\":\"t\",\"message\":\"m1\",\"decision\":\"spam\",\"moderator\":\"mod\"}",
    };
    const enum sg_event_type want[] = {SG_EV_TENANT, SG_EV_ACCOUNT, SG_EV_ACTIVITY, SG_EV_REPORT, SG_EV_REVIEW};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct sg_event *ev;
        char *err = NULL;
        int rc = sg_event_parse(ok[i], strlen(ok[i]), -1, &ev, &err);
        if (rc)
            fprintf(stderr, "%s: %s\n", ok[i], err);
        assert_int_equal(rc, 0);
        assert_int_equal(sg_event_type(ev), want[i]);
        sg_event_free(ev);
    }
}

static void errors_name_the_field(void **state)
{
    expect_error("{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":\"r\"}",
                 SG_EPARSE, "message.recipients: expected array of strings");
    expect_error("{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"a\",7]}",
                 SG_EPARSE, "message.recipients: expected array of strings (item 1 is not a string)");
    expect_error("{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\"}",
                 SG_EPARSE, "message.recipients: missing required field");
    expect_error("{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"fax\",\"sender\":\"s\",\"recipients\":[\"r\"]}",
                 SG_EPARSE, "message.channel: unknown channel \"fax\" (expected email, private_message, post, comment, sms or notification)");
    expect_error("{\"type\":\"message\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"r\"]}",
                 SG_EPARSE, "message.tenant: missing required field");
    expect_error("{\"type\":\"message\",\"tenant\":5,\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"r\"]}",
                 SG_EPARSE, "message.tenant: expected a string");
    expect_error("{\"type\":\"account\",\"tenant\":\"t\",\"account\":\"a\",\"verified\":\"yes\"}",
                 SG_EPARSE, "account.verified: expected true or false");
    expect_error("{\"type\":\"account\",\"tenant\":\"t\",\"account\":\"a\",\"ip\":\"300.1.1.1\"}",
                 SG_EPARSE, "account.ip: expected an IPv4 or IPv6 address, got \"300.1.1.1\"");
    expect_error("{\"type\":\"account\",\"at\":\"yesterday\",\"tenant\":\"t\",\"account\":\"a\"}",
                 SG_EPARSE, "account.at: expected an RFC 3339 time like 2026-11-23T00:04:05Z, got \"yesterday\"");
    expect_error("{\"type\":\"review\",\"tenant\":\"t\",\"message\":\"m\",\"decision\":\"maybe\"}",
                 SG_EPARSE, "review.decision: expected \"spam\" or \"ham\", got \"maybe\"");
    expect_error("{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[\"r\"],"
                 "\"attachments\":[{\"name\":\"x\",\"size\":-1}]}",
                 SG_EPARSE, "message.attachments[0].size: expected a non-negative integer");
    expect_error("{\"type\":\"party\"}", SG_EPARSE,
                 "type: expected one of tenant, account, activity, message, report, review");
    expect_error("[1,2]", SG_EPARSE, "expected a JSON object");
    expect_error("{\"type\":", SG_EPARSE, "invalid JSON at column 9: unexpected end of input");
    expect_error("{\"type\":\"activity\",\"tenant\":\"\",\"account\":\"a\"}", SG_EPARSE,
                 "activity.tenant: must not be empty");
}

static void limits(void **state)
{
    /* 10,001 recipients */
    size_t cap = 10001 * 8 + 256;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "{\"type\":\"message\",\"tenant\":\"t\",\"id\":\"m\",\"channel\":\"email\",\"sender\":\"s\",\"recipients\":[");
    for (int i = 0; i < 10001; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s\"r%d\"", i ? "," : "", i);
    n += (size_t)snprintf(buf + n, cap - n, "]}");
    expect_error(buf, SG_ETOOBIG, "message.recipients: more than 10000 recipients (10001)");
    free(buf);

    /* nesting */
    char deep[200];
    n = (size_t)snprintf(deep, sizeof deep, "{\"type\":\"activity\",\"tenant\":\"t\",\"account\":\"a\",\"x\":");
    for (int i = 0; i < 20; i++)
        deep[n++] = '[';
    for (int i = 0; i < 20; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_error(deep, SG_ETOOBIG, "nested deeper than 16 levels");

    /* id length */
    char longid[600];
    char id[300];
    memset(id, 'x', 257);
    id[257] = '\0';
    snprintf(longid, sizeof longid, "{\"type\":\"activity\",\"tenant\":\"t\",\"account\":\"%s\"}", id);
    expect_error(longid, SG_ETOOBIG, "activity.account: longer than 256 bytes (257)");

    /* whole event over 1 MiB */
    size_t big = (1u << 20) + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = '\0';
    expect_error(huge, SG_ETOOBIG, "event larger than 1048576 bytes (1048586)");
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_fields),
        cmocka_unit_test(default_type_for_check),
        cmocka_unit_test(other_types),
        cmocka_unit_test(errors_name_the_field),
        cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
