/* RFC 3339 timestamps, human durations and the wall clock (see timefmt.h and sendguard.h).
 * Calendar arithmetic is done here (days from civil date and back) rather than with timegm(),
 * so results never depend on the process's TZ or locale. */
#include "util/timefmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "sendguard.h"

#define US_PER_S 1000000
/* 10000-01-01T00:00:00Z: the first instant past the years this module reads and writes. */
#define END_OF_9999_S INT64_C(253402300800)
/* Ten years, leap days included (at most three in any ten years). */
#define MAX_DURATION_S (INT64_C(3653) * 86400)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Exactly n digits at *p. */
static bool digits(const char *s, size_t len, size_t *p, int n, int *out)
{
    if (len - *p < (size_t)n)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[*p + (size_t)i];
        if (!is_digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *p += (size_t)n;
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *p, char c)
{
    if (*p >= len || s[*p] != c)
        return false;
    (*p)++;
    return true;
}

/* A leap second (":60") reads as the last microsecond of ":59": order is kept, no minute is
 * skipped, and 23:59:60 stays on its own day. Offsets are ±HH:MM up to 23:59; "-00:00" is UTC.
 * Results outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z are rejected (an offset can
 * push a valid local time across either end). */
int sg__time_parse(const char *s, size_t len, int64_t *out)
{
    size_t p = 0;
    /* Zeroed although every path that reads them set them: GCC at -O3 cannot see it. */
    int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
    if (!s || !digits(s, len, &p, 4, &year) || !expect(s, len, &p, '-') ||
        !digits(s, len, &p, 2, &mon) || !expect(s, len, &p, '-') ||
        !digits(s, len, &p, 2, &day))
        return SG_EPARSE;
    if (p >= len || (s[p] != 'T' && s[p] != 't' && s[p] != ' '))
        return SG_EPARSE;
    p++;
    if (!digits(s, len, &p, 2, &hour) || !expect(s, len, &p, ':') ||
        !digits(s, len, &p, 2, &min) || !expect(s, len, &p, ':') ||
        !digits(s, len, &p, 2, &sec))
        return SG_EPARSE;
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
        (unsigned)day > days_in_month(year, mon) || hour > 23 || min > 59 || sec > 60)
        return SG_EPARSE;

    int64_t frac = 0;
    if (p < len && s[p] == '.') {
        p++;
        size_t start = p;
        int64_t scale = US_PER_S / 10;
        for (; p < len && is_digit(s[p]); p++) {
            frac += (s[p] - '0') * scale; /* digits past the sixth floor away */
            scale /= 10;
        }
        if (p == start)
            return SG_EPARSE;
    }

    int64_t offset_s = 0;
    if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int sign = s[p++] == '-' ? -1 : 1, oh, om;
        if (!digits(s, len, &p, 2, &oh) || !expect(s, len, &p, ':') ||
            !digits(s, len, &p, 2, &om) || oh > 23 || om > 59)
            return SG_EPARSE;
        offset_s = sign * (oh * 3600 + om * 60);
    } else {
        return SG_EPARSE;
    }
    if (p != len)
        return SG_EPARSE;

    if (sec == 60) {
        sec = 59;
        frac = US_PER_S - 1;
    }
    int64_t t = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 +
                min * 60 + sec - offset_s;
    if (t < 0 || t >= END_OF_9999_S)
        return SG_EPARSE;
    *out = t * US_PER_S + frac;
    return 0;
}

int sg_time_parse(const char *s, size_t len, sg_time *out) { return sg__time_parse(s, len, out); }

static void put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Times outside years 0000-9999 are clamped to those ends: the fixed-width form has no room
 * for them, and no real event lies there. */
void sg_time_format(sg_time t, char buf[21])
{
    static const int64_t min_s = INT64_C(-62167219200); /* 0000-01-01T00:00:00Z */
    int64_t secs = t / US_PER_S - (t % US_PER_S < 0); /* floor: -0.5 s is 23:59:59 the day before */
    if (secs < min_s)
        secs = min_s;
    if (secs >= END_OF_9999_S)
        secs = END_OF_9999_S - 1;
    int64_t days = (secs - min_s) / 86400 + min_s / 86400; /* floor, since secs - min_s >= 0 */
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    put_digits(buf, y, 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = 'T';
    put_digits(buf + 11, rem / 3600, 2);
    buf[13] = ':';
    put_digits(buf + 14, rem / 60 % 60, 2);
    buf[16] = ':';
    put_digits(buf + 17, rem % 60, 2);
    buf[19] = 'Z';
    buf[20] = '\0';
}

sg_time sg_clock_wall(void *ud)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sg_time)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

static int64_t unit_seconds(char u)
{
    switch (u) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 604800;
    default: return 0;
    }
}

/* Units are lower-case only: "15M" could as well mean months. Leading zeros are harmless and
 * accepted ("07d"); a bare number is accepted only as "0". */
int sg__duration_parse(const char *s, size_t len, int64_t *out_seconds)
{
    if (!s || len == 0 || !is_digit(s[0]))
        return SG_EPARSE;
    size_t p = 0;
    int64_t v = 0;
    while (p < len && is_digit(s[p])) {
        v = v * 10 + (s[p++] - '0');
        if (v > MAX_DURATION_S)
            return SG_EPARSE; /* checked per digit, so v*10 never overflows */
    }
    if (p == len) {
        if (len != 1 || v != 0)
            return SG_EPARSE;
        *out_seconds = 0;
        return 0;
    }
    int64_t unit = unit_seconds(s[p]);
    if (unit == 0 || p + 1 != len || v * unit > MAX_DURATION_S)
        return SG_EPARSE;
    *out_seconds = v * unit;
    return 0;
}

void sg__duration_format(int64_t seconds, char *buf, size_t size)
{
    static const struct {
        char unit;
        uint64_t s;
    } units[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    if (!buf || size == 0)
        return;
    /* The magnitude as unsigned, so INT64_MIN does not overflow. */
    uint64_t mag = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
    size_t i = 0;
    while (mag != 0 && mag % units[i].s != 0)
        i++;
    if (mag == 0)
        i = sizeof units / sizeof units[0] - 1;
    snprintf(buf, size, "%s%llu%c", seconds < 0 ? "-" : "",
             (unsigned long long)(mag / units[i].s), units[i].unit);
}
