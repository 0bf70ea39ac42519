/* Unit tests for IP and CIDR parsing, matching and canonical formatting: both families, the
 * prefix-length edges, v4-mapped matching, every rejected form, and slices that are not
 * NUL-terminated (each input is copied to the end of an exact-size heap block). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "util/cidr.h"

/* The parsers must not read past len: hand them an exact-size copy without a terminator, so
 * ASan flags any overrun. */
static int ip_parse(const char *s, uint8_t out[16])
{
    size_t len = strlen(s);
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    int rc = sg__ip_parse(p, len, out);
    free(p);
    return rc;
}

static int cidr_parse(const char *s, struct sg_cidr *out)
{
    size_t len = strlen(s);
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    int rc = sg__cidr_parse(p, len, out);
    free(p);
    return rc;
}

static void assert_canonical(const char *in, const char *want)
{
    struct sg_cidr c, again;
    char buf[64];
    if (cidr_parse(in, &c) != 0)
        fail_msg("rejected: %s", in);
    sg__cidr_format(&c, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(cidr_parse(buf, &again), 0);
    assert_int_equal(again.bits, c.bits);
    assert_memory_equal(again.addr, c.addr, 16);
}

static void test_ip_v4(void **state)
{
    uint8_t a[16];
    static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    assert_int_equal(ip_parse("192.0.2.7", a), 0);
    assert_memory_equal(a, want, 16);
    assert_int_equal(ip_parse("0.0.0.0", a), 0);
    assert_int_equal(a[10], 0xff);
    assert_int_equal(a[15], 0);
    assert_int_equal(ip_parse("255.255.255.255", a), 0);
    assert_int_equal(a[12], 255);
    /* The v4-mapped v6 spelling is the same address. */
    uint8_t b[16];
    assert_int_equal(ip_parse("::ffff:192.0.2.7", b), 0);
    assert_memory_equal(b, want, 16);
    assert_int_equal(ip_parse("::FFFF:c000:0207", b), 0);
    assert_memory_equal(b, want, 16);
}

static void test_ip_v6(void **state)
{
    uint8_t a[16];
    static const uint8_t db8_1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(ip_parse("2001:db8::1", a), 0);
    assert_memory_equal(a, db8_1, 16);
    assert_int_equal(ip_parse("2001:0DB8:0000:0000:0000:0000:0000:0001", a), 0);
    assert_memory_equal(a, db8_1, 16);
    static const uint8_t zero[16] = {0};
    assert_int_equal(ip_parse("::", a), 0);
    assert_memory_equal(a, zero, 16);
    assert_int_equal(ip_parse("::1", a), 0);
    assert_int_equal(a[15], 1);
    assert_int_equal(ip_parse("1::", a), 0);
    assert_int_equal(a[1], 1);
    assert_int_equal(a[15], 0);
    /* "::" may stand for a single group (RFC 4291 says one or more). */
    assert_int_equal(ip_parse("1:2:3:4:5:6:7::", a), 0);
    assert_int_equal(a[13], 7);
    assert_int_equal(ip_parse("::2:3:4:5:6:7:8", a), 0);
    assert_int_equal(a[15], 8);
    assert_int_equal(ip_parse("1:2:3:4:5:6:1.2.3.4", a), 0);
    assert_int_equal(a[11], 6);
    assert_int_equal(a[12], 1);
    assert_int_equal(a[15], 4);
    assert_int_equal(ip_parse("::1.2.3.4", a), 0);
    assert_int_equal(a[10], 0);
    assert_int_equal(a[15], 4);
}

static void test_invalid(void **state)
{
    static const char *bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.256.1.1", "01.2.3.4", "1.2.3.00", "1.2.3.4 ",
        " 1.2.3.4", "1.2.3.4x", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.-4", "1.2.3.4a", "1234.1.1.1",
        "1.2.3.0004", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "1:",
        ":", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::", "fe80::1%eth0",
        "::ffff:1.2.3", "::ffff:1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4::", "::01.2.3.4",
        "1.2.3.4::", "::/0", "1.2.3.4/24", "2001:db8:::1", "2001:db8::1 ", "0x1.2.3.4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t a[16];
        if (ip_parse(bad[i], a) != SG_EPARSE)
            fail_msg("ip accepted: \"%s\"", bad[i]);
    }
    static const char *bad_cidr[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "::1/129", "::/200",
        "1:2:3:4:5:6:7:8:9", ":::", "1::2::3", "1.2.3.4/", "/24", "/", "1.2.3.4/24x",
        "1.2.3.4/24/1", "1.2.3.4/ 24", "1.2.3.4/-1", "1.2.3.4/024", "1.2.3.4/00", "::/0128",
        "1.2.3.4/2 ", "10.0.0.0/8\n", "1.2.3.4//24", "1.2.3.4/1000",
    };
    for (size_t i = 0; i < sizeof bad_cidr / sizeof bad_cidr[0]; i++) {
        struct sg_cidr c;
        if (cidr_parse(bad_cidr[i], &c) != SG_EPARSE)
            fail_msg("cidr accepted: \"%s\"", bad_cidr[i]);
    }
    /* The length is respected: a valid prefix followed by bytes outside the slice. */
    struct sg_cidr c;
    assert_int_equal(sg__cidr_parse("10.0.0.0/8garbage", 10, &c), 0);
    assert_int_equal(c.bits, 104);
    assert_int_equal(sg__cidr_parse("10.0.0.0/8garbage", 11, &c), SG_EPARSE);
}

static void test_cidr_parse(void **state)
{
    struct sg_cidr c;
    assert_int_equal(cidr_parse("192.0.2.0/24", &c), 0);
    assert_int_equal(c.bits, 120);
    assert_int_equal(c.addr[14], 2);
    assert_int_equal(cidr_parse("192.0.2.77", &c), 0);
    assert_int_equal(c.bits, 128);
    assert_int_equal(c.addr[15], 77);
    /* Host bits are cleared. */
    assert_int_equal(cidr_parse("192.0.2.77/25", &c), 0);
    assert_int_equal(c.addr[15], 0);
    assert_int_equal(cidr_parse("192.0.2.200/25", &c), 0);
    assert_int_equal(c.addr[15], 128);
    assert_int_equal(cidr_parse("2001:db8:ffff::1/33", &c), 0);
    assert_int_equal(c.bits, 33);
    assert_int_equal(c.addr[4], 0x80);
    assert_int_equal(c.addr[5], 0);
    assert_int_equal(c.addr[15], 0);
    assert_int_equal(cidr_parse("::1", &c), 0);
    assert_int_equal(c.bits, 128);
    /* A v6 spelling of a v4 network counts its prefix in v6 bits. */
    assert_int_equal(cidr_parse("::ffff:10.0.0.0/104", &c), 0);
    assert_int_equal(c.bits, 104);
}

static void test_format(void **state)
{
    assert_canonical("192.0.2.0/24", "192.0.2.0/24");
    assert_canonical("192.0.2.77/24", "192.0.2.0/24");
    assert_canonical("192.0.2.77", "192.0.2.77/32");
    assert_canonical("0.0.0.0/0", "0.0.0.0/0");
    assert_canonical("255.255.255.255/32", "255.255.255.255/32");
    assert_canonical("::ffff:10.1.2.3/104", "10.0.0.0/8");
    assert_canonical("::ffff:0:0/96", "0.0.0.0/0");
    assert_canonical("2001:DB8::/32", "2001:db8::/32");
    assert_canonical("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128");
    assert_canonical("::/0", "::/0");
    assert_canonical("::", "::/128");
    assert_canonical("::1", "::1/128");
    assert_canonical("1::", "1::/128");
    assert_canonical("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    /* RFC 5952 4.2.2: a single zero group is not shortened. */
    assert_canonical("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128");
    /* 4.2.3: the longest run wins; the first of equal runs. */
    assert_canonical("2001:0:0:1:0:0:0:1", "2001:0:0:1::1/128");
    assert_canonical("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128");
    assert_canonical("1:0:0:2:0:0:3:4", "1::2:0:0:3:4/128");
    /* A v4-compatible (not mapped) address is plain v6. */
    assert_canonical("::1.2.3.4", "::102:304/128");
    assert_canonical("fe80::/10", "fe80::/10");
    assert_canonical("fe80::1/9", "fe80::/9");
    /* A small buffer truncates instead of overflowing. */
    struct sg_cidr c;
    char small[8];
    assert_int_equal(cidr_parse("2001:db8::/32", &c), 0);
    sg__cidr_format(&c, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_match(void **state)
{
    struct sg_cidr net, all4, all, host, v6;
    uint8_t ip[16];
    assert_int_equal(cidr_parse("10.1.0.0/16", &net), 0);
    assert_int_equal(ip_parse("10.1.255.3", ip), 0);
    assert_true(sg__cidr_match(&net, ip));
    assert_int_equal(ip_parse("10.2.0.1", ip), 0);
    assert_false(sg__cidr_match(&net, ip));
    /* A v4-mapped v6 address matches a v4 network. */
    assert_int_equal(ip_parse("::ffff:10.1.2.3", ip), 0);
    assert_true(sg__cidr_match(&net, ip));
    /* 0.0.0.0/0 is every v4 address but no v6 one; ::/0 is everything. */
    assert_int_equal(cidr_parse("0.0.0.0/0", &all4), 0);
    assert_int_equal(cidr_parse("::/0", &all), 0);
    assert_true(sg__cidr_match(&all4, ip));
    assert_true(sg__cidr_match(&all, ip));
    assert_int_equal(ip_parse("2001:db8::1", ip), 0);
    assert_false(sg__cidr_match(&all4, ip));
    assert_true(sg__cidr_match(&all, ip));
    /* /32 and /128 are single hosts. */
    assert_int_equal(cidr_parse("192.0.2.7/32", &host), 0);
    assert_int_equal(ip_parse("192.0.2.7", ip), 0);
    assert_true(sg__cidr_match(&host, ip));
    assert_int_equal(ip_parse("192.0.2.6", ip), 0);
    assert_false(sg__cidr_match(&host, ip));
    assert_int_equal(cidr_parse("2001:db8::1/128", &v6), 0);
    assert_int_equal(ip_parse("2001:db8::1", ip), 0);
    assert_true(sg__cidr_match(&v6, ip));
    assert_int_equal(ip_parse("2001:db8::2", ip), 0);
    assert_false(sg__cidr_match(&v6, ip));
    /* Prefixes that end inside a byte. */
    assert_int_equal(cidr_parse("2001:db8::/33", &v6), 0);
    assert_int_equal(ip_parse("2001:db8:7fff::1", ip), 0);
    assert_true(sg__cidr_match(&v6, ip));
    assert_int_equal(ip_parse("2001:db8:8000::1", ip), 0);
    assert_false(sg__cidr_match(&v6, ip));
    assert_int_equal(cidr_parse("192.0.2.128/25", &net), 0);
    assert_int_equal(ip_parse("192.0.2.127", ip), 0);
    assert_false(sg__cidr_match(&net, ip));
    assert_int_equal(ip_parse("192.0.2.255", ip), 0);
    assert_true(sg__cidr_match(&net, ip));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_v4),
        cmocka_unit_test(test_ip_v6),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
