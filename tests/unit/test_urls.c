/* URL extraction and facts (text/urls.c): every way a URL is written in a lure (scheme, www.,
 * schemeless, defanged, IP forms, userinfo, IDN and confusables, shorteners, anchor text naming
 * another domain), and the look-alikes that are not URLs. Inputs end before a PROT_NONE page. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sendguard.h"
#include "text/urls.h"
#include "util/arena.h"
#include "support/arena_fixture.h"


static const char *guarded(const char *text, size_t len)
{
    static char *map;
    static size_t mapped;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), need = (len + page - 1) / page * page + page;
    if (map)
        munmap(map, mapped);
    map = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    mapped = need;
    assert_int_equal(mprotect(map + need - page, page, PROT_NONE), 0);
    char *at = map + need - page - len;
    memcpy(at, text, len);
    return at;
}

static struct sg_url_list scan(const char *text)
{
    struct sg_url_list l = {0};
    assert_int_equal(sg__urls_scan(arena, guarded(text, strlen(text)), strlen(text), &l), 0);
    return l;
}

/* Scans text and expects exactly one URL, returned. */
static struct sg_text_url one(const char *text, const char *raw, const char *url)
{
    struct sg_url_list l = scan(text);
    if (l.n != 1) {
        print_error("%zu URLs in \"%s\"\n", l.n, text);
        for (size_t i = 0; i < l.n; i++)
            print_error("  %s\n", l.v[i].raw);
    }
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].raw, raw);
    assert_string_equal(l.v[0].url, url);
    return l.v[0];
}

static void none(const char *text)
{
    struct sg_url_list l = scan(text);
    if (l.n)
        print_error("\"%s\" is not a URL in \"%s\"\n", l.v[0].raw, text);
    assert_int_equal(l.n, 0);
}

static void with_scheme(void **state)
{
    struct sg_text_url u = one("Visit https://Claim-NFT.io/win?x=1, now.", "https://Claim-NFT.io/win?x=1",
                               "https://claim-nft.io/win?x=1");
    assert_string_equal(u.host, "claim-nft.io");
    assert_string_equal(u.domain, "claim-nft.io");
    assert_int_equal(u.flags, 0);
    one("(see https://en.wikipedia.org/wiki/Foo_(bar)).", "https://en.wikipedia.org/wiki/Foo_(bar)",
        "https://en.wikipedia.org/wiki/Foo_(bar)");
    one("[HTTP://EXAMPLE.COM:80]", "HTTP://EXAMPLE.COM:80", "http://example.com/");
    one("ftp://files.example.org:2121/x", "ftp://files.example.org:2121/x",
        "ftp://files.example.org:2121/x");
    one("\xE2\x80\x9Chttps://a.example.net/p\xE2\x80\x9D", "https://a.example.net/p",
        "https://a.example.net/p");
    u = one("go to www.Example.COM/path) ok", "www.Example.COM/path", "http://www.example.com/path");
    assert_int_equal(u.flags, SG_URL_SCHEMELESS);
    assert_string_equal(u.domain, "example.com");
    u = one("deep https://a.b.example.co.uk/", "https://a.b.example.co.uk/", "https://a.b.example.co.uk/");
    assert_string_equal(u.domain, "example.co.uk");
    u = one("pages https://someone.github.io/x", "https://someone.github.io/x",
            "https://someone.github.io/x");
    assert_string_equal(u.domain, "someone.github.io"); /* private suffixes count */
    u = one("http://localhost:8080/", "http://localhost:8080/", "http://localhost:8080/");
    assert_null(u.domain);
    none("javascript:alert(1) mailto:a@b.c tel:+123 data:text/html,x");
    none("https:// nothing http://");
}

static void schemeless(void **state)
{
    struct sg_text_url u = one("claim at claim-nft.io/win today", "claim-nft.io/win",
                               "http://claim-nft.io/win");
    assert_int_equal(u.flags, SG_URL_SCHEMELESS);
    one("Go to claim-nft.io.", "claim-nft.io", "http://claim-nft.io/");
    one("VISIT CLAIM-NFT.IO NOW", "CLAIM-NFT.IO", "http://claim-nft.io/");
    one("shop at example.com:8443/cart", "example.com:8443/cart", "http://example.com:8443/cart");
    one("get it at report.zip/download", "report.zip/download", "http://report.zip/download");
    /* not URLs: files, abbreviations, numbers, sentences without a space, mail addresses */
    none("see file.txt, e.g. this, i.e. that, version 1.2.3 and v2.0.1, pi is 3.14159");
    none("Dear Mr.Smith, today.How are you? It's 10.30am. U.S.A. and Node.js");
    none("unzip report.zip and run setup.sh or main.py; read README.md");
    none("K.k.how is your business now?");
    one("see t.co/abc", "t.co/abc", "http://t.co/abc");
    none("write to support@bank.example or claims@nft-prize.io");
    none("a.b x.y foo.bar1 ends with.");
    none("x.invalidtldhere and y.example"); /* not real public suffixes */
}

static void defanged(void **state)
{
    struct sg_text_url u = one("claim-prize[.]com", "claim-prize[.]com", "http://claim-prize.com/");
    assert_int_equal(u.flags, SG_URL_DEFANGED | SG_URL_SCHEMELESS);
    u = one("hxxps://evil[.]io/x", "hxxps://evil[.]io/x", "https://evil.io/x");
    assert_int_equal(u.flags, SG_URL_DEFANGED);
    u = one("hXXp[:]//bad(dot)site(dot)net/a", "hXXp[:]//bad(dot)site(dot)net/a",
            "http://bad.site.net/a");
    assert_string_equal(u.domain, "site.net");
    one("www[.]claim{.}io", "www[.]claim{.}io", "http://www.claim.io/");
    u = one("https[://]evil(.)io", "https[://]evil(.)io", "https://evil.io/");
    assert_true(u.flags & SG_URL_DEFANGED);
}

static void ip_literals(void **state)
{
    static const struct {
        const char *text, *host;
    } cases[] = {
        {"http://3232235777/", "192.168.1.1"}, {"http://0x7f.1/", "127.0.0.1"},
        {"http://0177.0.0.1/", "127.0.0.1"},   {"http://0xC0A80101/x", "192.168.1.1"},
        {"https://192.168.1.1:443/a", "192.168.1.1"}, {"http://10.1/", "10.0.0.1"},
        {"http://[::1]:8080/", "[::1]"},       {"http://[2001:DB8::1]/", "[2001:db8::1]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sg_url_list l = scan(cases[i].text);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].host, cases[i].host);
        assert_true(l.v[0].flags & SG_URL_IP_LITERAL);
        assert_null(l.v[0].domain);
    }
    none("http://999.1.1.1/ http://1.2.3.4.5/ http://0x1g/"); /* invalid: browsers refuse */
    none("call 192.168.1.1 or 10.0.0.1"); /* bare addresses in text are not links */
}

static void userinfo(void **state)
{
    struct sg_text_url u = one("https://www.bank.com@claim-nft.io/login",
                               "https://www.bank.com@claim-nft.io/login",
                               "https://www.bank.com@claim-nft.io/login");
    assert_string_equal(u.host, "claim-nft.io");
    assert_true(u.flags & SG_URL_USERINFO);
    u = one("https://user:pw@evil.io/", "https://user:pw@evil.io/", "https://user:pw@evil.io/");
    assert_string_equal(u.domain, "evil.io");
    /* a backslash is a slash to browsers: the host is evil.io */
    struct sg_text_url h;
    assert_int_equal(sg__url_parse(arena, "https://evil.io\\@bank.com/", 26, 0, &h), 0);
    assert_string_equal(h.host, "evil.io");
    assert_false(h.flags & SG_URL_USERINFO);
    assert_int_equal(sg__url_parse(arena, "http://%62ank.com/", 18, 0, &h), 0);
    assert_string_equal(h.host, "bank.com");
}

static void idn(void **state)
{
    /* all-Cyrillic "раураl" imitating paypal */
    struct sg_text_url u = one("https://\xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0\xD3\x8F.com/",
                               "https://\xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0\xD3\x8F.com/",
                               "https://xn--80aa0cbo65f.com/");
    assert_true(u.flags & SG_URL_CONFUSABLE);
    assert_true(u.flags & SG_URL_PUNYCODE);
    assert_string_equal(u.domain, "xn--80aa0cbo65f.com");
    /* the same written as punycode; and without a scheme */
    u = one("https://xn--80aa0cbo65f.com/", "https://xn--80aa0cbo65f.com/", "https://xn--80aa0cbo65f.com/");
    assert_true(u.flags & SG_URL_CONFUSABLE);
    u = one("login at \xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0l.com now",
            "\xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0l.com", "http://xn--l-7sba6dbr.com/");
    assert_true(u.flags & SG_URL_CONFUSABLE);
    /* a real German IDN is punycode, not confusable */
    u = one("https://M\xC3\xBCnchen.de/", "https://M\xC3\xBCnchen.de/", "https://xn--mnchen-3ya.de/");
    assert_int_equal(u.flags, SG_URL_PUNYCODE);
    /* fullwidth dots and zero-width characters inside a name */
    one("claim\xEF\xBC\x8Enft\xEF\xBC\x8Eio/x", "claim\xEF\xBC\x8Enft\xEF\xBC\x8Eio/x",
        "http://claim.nft.io/x");
    u = one("pay\xE2\x80\x8Bpal.com", "pay\xE2\x80\x8Bpal.com", "http://paypal.com/");
    assert_string_equal(u.host, "paypal.com");
}

static void shorteners(void **state)
{
    assert_true(one("https://bit.ly/abc", "https://bit.ly/abc", "https://bit.ly/abc").flags &
                SG_URL_SHORTENER);
    assert_true(one("http://www.tinyurl.com/x", "http://www.tinyurl.com/x", "http://www.tinyurl.com/x")
                    .flags & SG_URL_SHORTENER);
    assert_true(one("t.co/xyz", "t.co/xyz", "http://t.co/xyz").flags & SG_URL_SHORTENER);
    assert_false(one("https://example.com/", "https://example.com/", "https://example.com/").flags &
                 SG_URL_SHORTENER);
    assert_true(sg__url_is_shortener("cutt.ly", 7));
    assert_true(sg__url_is_shortener("go.rebrand.ly", 13));
    assert_false(sg__url_is_shortener("ly", 2));
    assert_false(sg__url_is_shortener("notbit.ly", 9));
}

static void hrefs(void **state)
{
    struct sg_url_list l = {0};
    assert_int_equal(sg__urls_add_href(arena, "https://claim-nft.io/win", "www.bank.example", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "https://www.paypal.com/signin", "PayPal.com", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "https://t.co/x", "Click here", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "http://3232235777/", "https://bank.com/login", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "//cdn.example.net/a", NULL, &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "mailto:x@y.z", "mail", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "javascript:void(0)", "js", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "/relative/path", "rel", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "#top", "top", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "https://claim-nft.io/win", "www.bank.example", &l), 0);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.v[0].flags, SG_URL_FROM_HTML | SG_URL_ANCHOR_MISMATCH);
    assert_string_equal(l.v[0].anchor, "www.bank.example");
    assert_string_equal(l.v[0].anchor_domain, "bank.example");
    assert_int_equal(l.v[1].flags, SG_URL_FROM_HTML);
    assert_string_equal(l.v[1].anchor_domain, "paypal.com");
    assert_int_equal(l.v[2].flags, SG_URL_FROM_HTML | SG_URL_SHORTENER);
    assert_null(l.v[2].anchor_domain);
    assert_true(l.v[3].flags & SG_URL_ANCHOR_MISMATCH);
    assert_true(l.v[3].flags & SG_URL_IP_LITERAL);
    assert_string_equal(l.v[4].url, "http://cdn.example.net/a");
    assert_null(l.v[4].anchor);
    /* the text scan does not repeat a URL the list has */
    assert_int_equal(sg__urls_scan(arena, "see https://claim-nft.io/win", 28, &l), 0);
    assert_int_equal(l.n, 5);
}

/* The anchor must present itself as an address for a different target to be the phishing
 * tell: a bare domain or one written with "www." or a scheme, not a name inside a headline over
 * a newsletter's click-tracking link. */
static void anchor_mismatch_needs_an_address(void **state)
{
    (void)state;
    struct sg_url_list l = {0};
    assert_int_equal(sg__urls_add_href(arena, "http://clickthru.online.example/Click?q=1",
                                       "News.com: Top CIOs", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "https://claim-nft.io/a", "paypal.com", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "https://claim-nft.io/b", " paypal.com/login. ", &l), 0);
    assert_int_equal(sg__urls_add_href(arena, "https://claim-nft.io/c",
                                       "Log in at https://paypal.com today", &l), 0);
    assert_int_equal(l.n, 4);
    assert_false(l.v[0].flags & SG_URL_ANCHOR_MISMATCH);
    assert_string_equal(l.v[0].anchor_domain, "news.com"); /* still named, for the reasons */
    assert_true(l.v[1].flags & SG_URL_ANCHOR_MISMATCH);
    assert_true(l.v[2].flags & SG_URL_ANCHOR_MISMATCH);
    assert_true(l.v[3].flags & SG_URL_ANCHOR_MISMATCH);
}

static void caps(void **state)
{
    struct sg_url_list l = scan("https://a.io/ https://a.io/ http://a.io");
    assert_int_equal(l.n, 2); /* duplicates kept once */
    size_t cap = 300 * 24;
    char *many = malloc(cap), *p = many;
    for (int i = 0; i < 300; i++)
        p += snprintf(p, cap - (size_t)(p - many), "https://e%d.io/ ", i);
    l = scan(many);
    assert_int_equal(l.n, SG_URL_MAX);
    free(many);
    /* a very long URL is cut */
    size_t n = SG_URL_MAX_LEN * 2;
    char *longu = malloc(n + 1);
    memcpy(longu, "https://a.io/", 13);
    memset(longu + 13, 'x', n - 13);
    longu[n] = '\0';
    l = scan(longu);
    assert_int_equal(l.n, 1);
    assert_int_equal(strlen(l.v[0].raw), SG_URL_MAX_LEN);
    free(longu);
}

/* The abused-TLD flag: links under data/abused_tlds.txt, but not a bare file or name written
 * without a scheme ("sendmail.cf", "julian.bond"). */
static void abused_tlds(void **state)
{
    (void)state;
    assert_true(one("pay at https://parcel-fee.top/pay", "https://parcel-fee.top/pay",
                    "https://parcel-fee.top/pay").flags & SG_URL_ABUSED_TLD);
    assert_true(one("go to claim-prize.xyz/win now", "claim-prize.xyz/win",
                    "http://claim-prize.xyz/win").flags & SG_URL_ABUSED_TLD);
    assert_true(one("see www.cheap-meds.click", "www.cheap-meds.click",
                    "http://www.cheap-meds.click/").flags & SG_URL_ABUSED_TLD);
    struct sg_url_list l = scan("edit sendmail.cf and ask julian.bond");
    for (size_t i = 0; i < l.n; i++)
        assert_false(l.v[i].flags & SG_URL_ABUSED_TLD);
    assert_false(one("shop at https://flowers.shop/", "https://flowers.shop/",
                     "https://flowers.shop/").flags & SG_URL_ABUSED_TLD);
    assert_true(sg__url_abused_tld("x.top"));
    assert_false(sg__url_abused_tld("topdesk.com"));
    assert_false(sg__url_abused_tld(NULL));
    assert_false(sg__url_abused_tld("localhost"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(with_scheme), cmocka_unit_test(schemeless),
        cmocka_unit_test(abused_tlds),
        cmocka_unit_test(defanged),    cmocka_unit_test(ip_literals),
        cmocka_unit_test(userinfo),    cmocka_unit_test(idn),
        cmocka_unit_test(shorteners),  cmocka_unit_test(hrefs),
        cmocka_unit_test(anchor_mismatch_needs_an_address),
        cmocka_unit_test(caps),
    };
    return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
