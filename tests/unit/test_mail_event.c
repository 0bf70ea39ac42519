/* Message events from raw mail (sg_event_from_rfc822): sender from From, recipients from To, Cc
 * and Bcc (groups flattened), the fallbacks when they are missing, the Message-ID as id, and
 * errors that say what is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/event.h"
#include "engine/policy.h"
#include "text/mail_event.h"

static struct sg_event *parse_ok(const char *mail)
{
    struct sg_event *ev = NULL;
    char *err = NULL;
    int rc = sg_event_from_rfc822(mail, strlen(mail), "clinic", &ev, &err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_null(err);
    return ev;
}

static void expect_error(const char *mail, const char *want)
{
    struct sg_event *ev = NULL;
    char *err = NULL;
    assert_int_equal(sg_event_from_rfc822(mail, strlen(mail), "clinic", &ev, &err), SG_EPARSE);
    assert_null(ev);
    assert_string_equal(err, want);
    sg_free(err);
}

static void addresses_and_id(void **state)
{
    struct sg_event *ev = parse_ok("From: \"Dr. A\" <dr.a@clinic.example>\r\n"
                                   "To: Ann <ann@example.org>, Team: bob@example.org, cy@example.org;\r\n"
                                   "Cc: dee@example.org\r\n"
                                   "Message-ID: <m1@clinic.example>\r\n"
                                   "Subject: Reminder\r\n\r\nSee you on Monday.\r\n");
    assert_int_equal(sg_event_type(ev), SG_EV_MESSAGE);
    assert_int_equal(ev->channel, SG_CH_EMAIL);
    assert_string_equal(sg_event_tenant(ev), "clinic");
    assert_string_equal(ev->sender, "dr.a@clinic.example");
    assert_string_equal(ev->id, "m1@clinic.example");
    assert_int_equal(ev->nrecipients, 4);
    assert_string_equal(ev->recipients[0], "ann@example.org");
    assert_string_equal(ev->recipients[1], "bob@example.org"); /* the group's members */
    assert_string_equal(ev->recipients[3], "dee@example.org");
    assert_non_null(strstr(ev->raw, "See you on Monday."));
    sg_event_free(ev);
}

static void id_without_message_id(void **state)
{
    const char *mail = "From: a@x.example\nTo: b@y.example\n\nhi\n";
    struct sg_event *a = parse_ok(mail), *b = parse_ok(mail);
    assert_int_equal(strncmp(a->id, "sha-", 4), 0);
    assert_string_equal(a->id, b->id); /* the same text, the same id */
    sg_event_free(a);
    sg_event_free(b);
}

/* Mail naming nobody in To/Cc/Bcc, or without From, is still judged: the delivery headers,
 * Sender or Return-Path stand in, else the placeholders. */
static void fallback_addresses(void **state)
{
    (void)state;
    struct sg_event *ev = parse_ok("From: list@lists.example\r\nDelivered-To: ann@example.org\r\n"
                                   "Subject: x\r\n\r\nhi\r\n");
    assert_int_equal(ev->nrecipients, 1);
    assert_string_equal(ev->recipients[0], "ann@example.org");
    sg_event_free(ev);
    ev = parse_ok("Return-Path: <bounce@mailer.example>\r\nSubject: x\r\n\r\nhi\r\n");
    assert_string_equal(ev->sender, "bounce@mailer.example");
    assert_int_equal(ev->nrecipients, 1);
    assert_string_equal(ev->recipients[0], SG_RFC822_UNDISCLOSED);
    sg_event_free(ev);
    ev = parse_ok("Subject: no addresses at all\r\n\r\nhi\r\n");
    assert_string_equal(ev->sender, SG_RFC822_UNKNOWN_SENDER);
    assert_string_equal(ev->recipients[0], SG_RFC822_UNDISCLOSED);
    sg_event_free(ev);
}

/* Only the fields read are given to GMime: the others, folded or not, and the body change
 * nothing; a To after many other fields, folded, in a different case, is still found. */
static void fields_among_others(void **state)
{
    struct sg_event *ev = parse_ok("Received: from a\r\n\tby b; Mon, 1 Jan 2024\r\n"
                                   "X-Thing: 1\r\nfrom: a@x.example\r\nDate: today\r\n"
                                   "TO: Ann <ann@example.org>,\r\n bob@example.org\r\n"
                                   "Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
                                   "To: not@header.example\r\n--zz\r\n");
    assert_string_equal(ev->sender, "a@x.example");
    assert_int_equal(ev->nrecipients, 2);
    assert_string_equal(ev->recipients[1], "bob@example.org");
    sg_event_free(ev);
}

/* Address lists the field reading takes without GMime (plain names, quoted names, bounce
 * addresses) and the near misses it leaves to GMime (a name that starts with a dot, an empty
 * item, a trailing comma, comments, punycode, an address without a domain) read as GMime's
 * message parser reads them. */
static void simple_lists_as_parser(void **state)
{
    static const char *const values[] = {
        "a@x.example", "Ann <ann@x.example>, bob@x.example", "\"Doe, J.\" <j@x.example>",
        "J. Smith <j@x.example>,\r\n \"\" <k@x.example>", "<b+tag=x.example@y.example>",
        ".Ann <ann@x.example>", "a@x.example,,b@x.example", "a@x.example,", "a@x (A)",
        "a@xn--bcher-kva.example", "a", "a@x.example b", "\"a\\\"b\" <c@x.example>",
        "=?utf-8?q?A?= <a@x.example>", "a.@x.example", "a@x..example", "Ann <ann@x.example",
    };
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char mail[512];
        snprintf(mail, sizeof mail, "From: %s\r\nTo: %s\r\nCc: c@x.example\r\n\r\nbody\r\n",
                 values[i], values[i]);
        struct sg_event *fields = NULL, *parsed = NULL;
        int rc = sg__event_from_rfc822_read(mail, strlen(mail), "clinic", SG__RFC822_FIELDS,
                                            &fields, NULL);
        assert_int_equal(sg__event_from_rfc822_read(mail, strlen(mail), "clinic",
                                                    SG__RFC822_PARSER, &parsed, NULL),
                         0);
        if (rc == 0) {
            assert_string_equal(fields->sender, parsed->sender);
            assert_int_equal(fields->nrecipients, parsed->nrecipients);
            for (size_t k = 0; k < fields->nrecipients; k++)
                assert_string_equal(fields->recipients[k], parsed->recipients[k]);
        }
        sg_event_free(fields);
        sg_event_free(parsed);
    }
    (void)state;
}

static void errors(void **state)
{
    expect_error("\nhello, no header at all\n", "raw: no header fields (not an RFC 822 message)");
    struct sg_event *ev = NULL;
    char *err = NULL;
    assert_int_equal(sg_event_from_rfc822("x", 1, "", &ev, &err), SG_EPARSE);
    assert_string_equal(err, "tenant: must be 1 to 256 bytes");
    sg_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_and_id),
        cmocka_unit_test(id_without_message_id),
        cmocka_unit_test(fallback_addresses),
        cmocka_unit_test(fields_among_others),
        cmocka_unit_test(simple_lists_as_parser),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
