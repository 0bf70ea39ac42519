/* Unit tests for RFC 3339 parsing and formatting, durations, and the wall clock: calendar
 * edges (leap years, month ends, the 1970 and 9999 limits), offsets, fractions, leap seconds,
 * rejected forms, and round trips checked against a brute-force day count. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "util/timefmt.h"

#define S(x) ((int64_t)(x) * 1000000)

/* Exact-size heap copy without a terminator, so ASan catches a read past len. */
static int tparse(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    int rc = sg__time_parse(p, len, out);
    free(p);
    return rc;
}

static int dparse(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    int rc = sg__duration_parse(p, len, out);
    free(p);
    return rc;
}

static int64_t must_parse(const char *s)
{
    int64_t t = -12345;
    if (tparse(s, &t) != 0)
        fail_msg("rejected: %s", s);
    return t;
}

static void test_valid(void **state)
{
    assert_int_equal(must_parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(must_parse("2026-11-23T00:04:05Z"), S(1795392245));
    assert_int_equal(must_parse("2026-11-23t00:04:05z"), S(1795392245));
    assert_int_equal(must_parse("2026-11-23 00:04:05Z"), S(1795392245));
    assert_int_equal(must_parse("2000-03-01T00:00:00Z"), S(951868800));
    assert_int_equal(must_parse("2038-01-19T03:14:08Z"), S(INT64_C(2147483648)));
    assert_int_equal(must_parse("9999-12-31T23:59:59Z"), S(INT64_C(253402300799)));
    assert_int_equal(must_parse("9999-12-31T23:59:59.999999Z"), S(INT64_C(253402300799)) + 999999);
    /* The same int64 the public wrapper gives. */
    sg_time pub;
    assert_int_equal(sg_time_parse("2026-11-23T00:04:05Z", 20, &pub), 0);
    assert_int_equal(pub, S(1795392245));
    assert_int_equal(sg_time_parse("2026-11-23T00:04:05", 19, &pub), SG_EPARSE);
}

static void test_leap_years(void **state)
{
    int64_t t;
    assert_int_equal(must_parse("2024-02-29T12:00:00Z"), S(1709208000));
    assert_int_equal(tparse("2023-02-29T12:00:00Z", &t), SG_EPARSE);
    assert_int_equal(must_parse("2000-02-29T00:00:00Z"), S(951782400)); /* 400-year rule */
    assert_int_equal(tparse("2100-02-29T00:00:00Z", &t), SG_EPARSE);  /* 100-year rule */
    assert_int_equal(tparse("1900-02-28T00:00:00Z", &t), SG_EPARSE);  /* before 1970 */
    assert_int_equal(must_parse("2023-02-28T23:59:59Z") + S(1), must_parse("2023-03-01T00:00:00Z"));
    assert_int_equal(must_parse("2024-02-29T23:59:59Z") + S(1), must_parse("2024-03-01T00:00:00Z"));
    static const char *month_ends[] = {"2026-01-31", "2026-03-31", "2026-04-30", "2026-05-31",
                                       "2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30",
                                       "2026-10-31", "2026-11-30", "2026-12-31"};
    static const char *past_ends[] = {"2026-01-32", "2026-04-31", "2026-06-31", "2026-09-31",
                                      "2026-11-31", "2026-12-32", "2026-00-10", "2026-13-01",
                                      "2026-05-00"};
    char buf[32];
    for (size_t i = 0; i < sizeof month_ends / sizeof month_ends[0]; i++) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", month_ends[i]);
        assert_int_equal(tparse(buf, &t), 0);
    }
    for (size_t i = 0; i < sizeof past_ends / sizeof past_ends[0]; i++) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", past_ends[i]);
        if (tparse(buf, &t) != SG_EPARSE)
            fail_msg("accepted: %s", buf);
    }
}

static void test_offsets(void **state)
{
    int64_t utc = must_parse("2026-11-23T00:04:05Z");
    assert_int_equal(must_parse("2026-11-23T01:04:05+01:00"), utc);
    assert_int_equal(must_parse("2026-11-22T19:34:05-04:30"), utc);
    assert_int_equal(must_parse("2026-11-23T00:04:05+00:00"), utc);
    assert_int_equal(must_parse("2026-11-23T00:04:05-00:00"), utc);
    assert_int_equal(must_parse("2026-11-23T23:59:05+23:55"), utc);
    assert_int_equal(must_parse("2026-11-22T00:05:05-23:59"), utc);
    /* Across a year and a leap day. */
    assert_int_equal(must_parse("2025-01-01T00:30:00+01:00"), must_parse("2024-12-31T23:30:00Z"));
    assert_int_equal(must_parse("2024-02-28T23:00:00-02:00"), must_parse("2024-02-29T01:00:00Z"));
    int64_t t;
    assert_int_equal(tparse("2026-11-23T00:04:05+24:00", &t), SG_EPARSE);
    assert_int_equal(tparse("2026-11-23T00:04:05+01:60", &t), SG_EPARSE);
    assert_int_equal(tparse("2026-11-23T00:04:05+0100", &t), SG_EPARSE);
    assert_int_equal(tparse("2026-11-23T00:04:05+1:00", &t), SG_EPARSE);
    assert_int_equal(tparse("2026-11-23T00:04:05+01", &t), SG_EPARSE);
    /* The UTC result must stay within 1970..9999. */
    assert_int_equal(tparse("1970-01-01T00:30:00+01:00", &t), SG_EPARSE);
    assert_int_equal(must_parse("1970-01-01T01:00:00+01:00"), 0);
    assert_int_equal(tparse("9999-12-31T23:30:00-01:00", &t), SG_EPARSE);
}

static void test_fractions(void **state)
{
    int64_t base = must_parse("2026-11-23T00:04:05Z");
    assert_int_equal(must_parse("2026-11-23T00:04:05.1Z"), base + 100000);
    assert_int_equal(must_parse("2026-11-23T00:04:05.123456Z"), base + 123456);
    assert_int_equal(must_parse("2026-11-23T00:04:05.000001Z"), base + 1);
    assert_int_equal(must_parse("2026-11-23T00:04:05.1234569999Z"), base + 123456); /* floors */
    assert_int_equal(must_parse("2026-11-23T01:04:05.5+01:00"), base + 500000);
    /* A leap second is the last microsecond of its minute. */
    assert_int_equal(must_parse("2016-12-31T23:59:60Z"), must_parse("2017-01-01T00:00:00Z") - 1);
    assert_int_equal(must_parse("2016-12-31T23:59:60.5Z"), must_parse("2017-01-01T00:00:00Z") - 1);
}

static void test_invalid(void **state)
{
    static const char *bad[] = {
        "", "2026", "2026-11-23", "2026-11-23T", "2026-11-23T00:04:05", "2026-11-23T00:04Z",
        "2026-11-23T00:04:05ZZ", "2026-11-23T00:04:05Z ", " 2026-11-23T00:04:05Z",
        "2026-11-23X00:04:05Z", "2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z",
        "2026-11-23T23:59:61Z", "2026-11-23T00:04:05.Z", "2026-11-23T00:04:05,5Z",
        "2026-1-23T00:04:05Z", "2026-11-3T00:04:05Z", "26-11-23T00:04:05Z", "20261123T000405Z",
        "2026/11/23T00:04:05Z", "1969-12-31T23:59:59Z", "0000-01-01T00:00:00Z",
        "+2026-11-23T00:04:05Z", "2026-11-23T00:04:05+", "2026-11-23T00:04:05UTC",
        "2026-11-23T0a:04:05Z", "2026-11-23T00:04:05.123+", "2026-11-23T00:04:05\n",
        "2026-11-23T00:04:05.-1Z", "2026-11-23T00:04:5Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 777;
        if (tparse(bad[i], &t) != SG_EPARSE)
            fail_msg("accepted: \"%s\"", bad[i]);
        assert_int_equal(t, 777); /* *out untouched on error */
    }
    /* The length is respected: a valid time followed by bytes outside the slice. */
    int64_t t;
    assert_int_equal(sg__time_parse("2026-11-23T00:04:05Zjunk", 20, &t), 0);
    assert_int_equal(sg__time_parse("2026-11-23T00:04:05Zjunk", 21, &t), SG_EPARSE);
    assert_int_equal(sg__time_parse("2026-11-23T00:04:05Z", 19, &t), SG_EPARSE);
}

static void test_format(void **state)
{
    char buf[21];
    sg_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    sg_time_format(S(1795392245) + 999999, buf);
    assert_string_equal(buf, "2026-11-23T00:04:05Z");
    sg_time_format(must_parse("2024-02-29T23:59:59.75Z"), buf);
    assert_string_equal(buf, "2024-02-29T23:59:59Z");
    /* Sub-second parts floor toward minus infinity, also before the epoch. */
    sg_time_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    sg_time_format(S(-86400), buf);
    assert_string_equal(buf, "1969-12-31T00:00:00Z");
    sg_time_format(S(-86400) - 1, buf);
    assert_string_equal(buf, "1969-12-30T23:59:59Z");
    /* Far outside the four-digit years the text is clamped, never overflowed. */
    sg_time_format(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    sg_time_format(INT64_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
    assert_int_equal(strlen(buf), 20);
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Every day from 1970 to 2400 is written out by a plain calendar walk, parsed, checked
 * against a running day count, and formatted back to the same text. */
static void test_calendar_walk(void **state)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    char text[32], back[21];
    for (int y = 1970; y <= 2400; y++) {
        for (int m = 1; m <= 12; m++) {
            int n = dim[m - 1] + (m == 2 && leap(y));
            for (int d = 1; d <= n; d++, days++) {
                int secs = (int)(days % 86400);
                snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
                         secs / 3600, secs / 60 % 60, secs % 60);
                int64_t t;
                if (sg__time_parse(text, 20, &t) != 0)
                    fail_msg("rejected: %s", text);
                assert_int_equal(t, S(days * 86400 + secs));
                sg_time_format(t + 999999, back);
                assert_string_equal(back, text);
            }
        }
    }
}

static void test_round_trip(void **state)
{
    /* Across the whole range, in steps that hit every time of day: parse(format(t)) is t with
     * the sub-second part dropped. */
    char buf[21];
    for (int64_t s = 0; s < INT64_C(253402300800); s += INT64_C(86400) * 3001 + 4567) {
        sg_time_format(S(s) + 654321, buf);
        int64_t back;
        assert_int_equal(sg__time_parse(buf, 20, &back), 0);
        assert_int_equal(back, S(s));
    }
}

static void test_clock(void **state)
{
    sg_time a = sg_clock_wall(NULL);
    sg_time b = sg_clock_wall(NULL);
    assert_true(a > must_parse("2024-01-01T00:00:00Z"));
    assert_true(a < must_parse("2200-01-01T00:00:00Z"));
    assert_true(b >= a - S(1));
}

static void test_duration_parse(void **state)
{
    static const struct {
        const char *in;
        int64_t s;
    } ok[] = {
        {"0", 0},          {"0s", 0},        {"90s", 90},         {"15m", 900},
        {"24h", 86400},    {"7d", 604800},   {"2w", 1209600},     {"1s", 1},
        {"007d", 604800},  {"3653d", 3653 * INT64_C(86400)},      {"521w", 521 * INT64_C(604800)},
        {"315619200s", 315619200},           {"87672h", 87672 * INT64_C(3600)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        if (dparse(ok[i].in, &v) != 0)
            fail_msg("rejected: %s", ok[i].in);
        assert_int_equal(v, ok[i].s);
    }
    static const char *bad[] = {
        "", "s", "-5m", "+5m", "5", "00", "90", "5x", "5M", "5H", "5ms", "5 m", " 5m", "5m ",
        "1.5h", "3654d", "522w", "315619201s", "99999999999999999999999s", "5m5s", "m5", "0x10s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 777;
        if (dparse(bad[i], &v) != SG_EPARSE)
            fail_msg("accepted: \"%s\"", bad[i]);
        assert_int_equal(v, 777);
    }
    int64_t v;
    assert_int_equal(sg__duration_parse("15mjunk", 3, &v), 0);
    assert_int_equal(v, 900);
}

static void test_duration_format(void **state)
{
    static const struct {
        int64_t s;
        const char *out;
    } cases[] = {
        {0, "0s"},        {1, "1s"},          {59, "59s"},       {60, "1m"},     {90, "90s"},
        {900, "15m"},     {3600, "1h"},       {5400, "90m"},     {86400, "1d"},  {90000, "25h"},
        {604800, "1w"},   {1209600, "2w"},    {691200, "8d"},    {-60, "-1m"},   {-90, "-90s"},
        {INT64_MIN, "-9223372036854775808s"}, {INT64_MAX, "9223372036854775807s"},
    };
    char buf[24];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sg__duration_format(cases[i].s, buf, sizeof buf);
        assert_string_equal(buf, cases[i].out);
    }
    /* Round trip: every formatted valid duration parses back to itself. */
    static const char *texts[] = {"0", "90s", "15m", "24h", "7d", "2w", "3653d", "14d", "120m"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int64_t a, b;
        assert_int_equal(dparse(texts[i], &a), 0);
        sg__duration_format(a, buf, sizeof buf);
        assert_int_equal(dparse(buf, &b), 0);
        assert_int_equal(a, b);
    }
    sg__duration_format(86400, buf, sizeof buf);
    assert_string_equal(buf, "1d");
    char tiny[3];
    sg__duration_format(604800 * 10, tiny, sizeof tiny);
    assert_string_equal(tiny, "10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_fractions),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_calendar_walk),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
