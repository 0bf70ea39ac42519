/* MIME reading (text/mime.c): charsets and transfer encodings to UTF-8, nested multiparts and
 * message/rfc822, attachments (RFC 2231/2047 names, decoded sizes), sender headers, broken
 * structures read as far as possible, and the limits. Inputs end right before a PROT_NONE page. */
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
#include "text/mime.h"
#include "text/same.h"
#include "util/arena.h"
#include "support/arena_fixture.h"


/* Copies text so that its last byte is the last readable one before an inaccessible page. */
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

static int parse_n(const char *raw, size_t len, struct sg_mime *m)
{
    return sg__mime_parse(arena, guarded(raw, len), len, m);
}

static int parse(const char *raw, struct sg_mime *m)
{
    return parse_n(raw, strlen(raw), m);
}

static const char *text_at(const struct sg_mime *m, size_t i)
{
    assert_true(i < m->ntexts);
    return m->texts[i].text;
}

static void charsets(void **state)
{
    struct sg_mime m;
    /* latin1 labels read as windows-1252, as browsers do: 0x80 is the euro sign */
    assert_int_equal(parse("Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                           "Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xE9 \x80" "5 \x93q\x94\r\n",
                           &m), 0);
    assert_string_equal(text_at(&m, 0), "Caf\xC3\xA9 \xE2\x82\xAC" "5 \xE2\x80\x9Cq\xE2\x80\x9D\r\n");
    assert_false(m.broken);
    assert_int_equal(parse("Content-Type: text/plain; charset=windows-1252\r\n\r\n\x96 \x85", &m), 0);
    assert_string_equal(text_at(&m, 0), "\xE2\x80\x93 \xE2\x80\xA6");
    assert_int_equal(parse("Content-Type: text/plain; charset=koi8-r\r\n\r\n"
                           "\xF0\xD2\xC9\xD7\xC5\xD4", &m), 0);
    assert_string_equal(text_at(&m, 0), "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    /* ISO-2022-JP is stateful: escape sequences switch sets */
    assert_int_equal(parse("Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
                           "\x1B$B$3$s$K$A$O\x1B(B!", &m), 0);
    assert_string_equal(text_at(&m, 0), "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF!");
    /* undeclared: UTF-8 when valid, else windows-1252 */
    assert_int_equal(parse("Subject: x\r\n\r\nna\xC3\xAFve", &m), 0);
    assert_string_equal(text_at(&m, 0), "na\xC3\xAFve");
    assert_int_equal(parse("Subject: x\r\n\r\nna\xEFve", &m), 0);
    assert_string_equal(text_at(&m, 0), "na\xC3\xAFve");
    /* declared UTF-8 with a bad byte: U+FFFD, the rest kept */
    assert_int_equal(parse("Content-Type: text/plain; charset=utf-8\r\n\r\na\xFF" "b", &m), 0);
    assert_string_equal(text_at(&m, 0), "a\xEF\xBF\xBD" "b");
    /* an unknown charset reads as undeclared */
    assert_int_equal(parse("Content-Type: text/plain; charset=x-nonsense\r\n\r\nok", &m), 0);
    assert_string_equal(text_at(&m, 0), "ok");
}

static void transfer_encodings(void **state)
{
    struct sg_mime m;
    assert_int_equal(parse("Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                           "Voc=C3=AA ganhou=\r\n um pr=C3=AAmio =3D 1 NFT\r\n", &m), 0);
    assert_string_equal(text_at(&m, 0), "Voc\xC3\xAA ganhou um pr\xC3\xAAmio = 1 NFT\r\n");
    assert_int_equal(parse("Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\n"
                           "Q2xhaW0geW91ciBORlQgbm93\r\nIQ==\r\n", &m), 0);
    assert_string_equal(text_at(&m, 0), "Claim your NFT now!");
    assert_false(m.broken);
    /* base64 of windows-1252 text */
    assert_int_equal(parse("Content-Type: text/plain; charset=windows-1252\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\ngCAxMDA=\r\n", &m), 0);
    assert_string_equal(text_at(&m, 0), "\xE2\x82\xAC 100");
}

static const char nested[] =
    "From: =?UTF-8?B?QmFuayBTdXBwb3J0?= <support@bank.example>\r\n"
    "Reply-To: \"Claims\" <claims@nft-prize.io>\r\n"
    "Subject: =?iso-8859-1?Q?Voc=EA_ganhou?=\r\n"
    "Received: from a\r\nReceived: from b\r\nReceived: from c\r\nReceived: from d\r\n"
    "Message-ID: <1@x>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "plain version\r\n"
    "--alt\r\n"
    "Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n"
    "--rel\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    "<p>html version</p>\r\n"
    "--rel\r\n"
    "Content-Type: image/png\r\n"
    "Content-Disposition: inline; filename=\"logo.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "iVBORw0KGgo=\r\n"
    "--rel--\r\n"
    "--alt--\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=\"=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?=\"\r\n"
    "Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "JVBERi0xLjQKJcfs\r\nj6IK\r\n"
    "--outer\r\n"
    "Content-Type: application/octet-stream; name=\"=?utf-8?B?0YHRh9C10YIuZXhl?=\"\r\n\r\n"
    "MZ\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
    "Subject: inner\r\n"
    "Content-Type: text/plain; charset=koi8-r\r\n\r\n"
    "\xF0\xD2\xC9\xD7\xC5\xD4\r\n"
    "--outer\r\n"
    "Content-Type: application/pgp-signature\r\n\r\n"
    "sig\r\n"
    "--outer--\r\n";

static void structure(void **state)
{
    struct sg_mime m;
    assert_int_equal(parse(nested, &m), 0);
    assert_false(m.broken);
    assert_string_equal(m.subject, "Voc\xC3\xAA ganhou");
    assert_string_equal(m.from_name, "Bank Support");
    assert_string_equal(m.from_addr, "support@bank.example");
    assert_string_equal(m.reply_to, "claims@nft-prize.io");
    assert_int_equal(m.ntexts, 3);
    assert_string_equal(text_at(&m, 0), "plain version");
    assert_false(m.texts[0].html);
    assert_true(m.texts[1].html);
    assert_string_equal(text_at(&m, 1), "<p>html version</p>");
    assert_int_equal(m.texts[0].alt_group, m.texts[1].alt_group); /* alternatives of one body */
    assert_true(m.texts[0].alt_group >= 0);
    assert_string_equal(text_at(&m, 2), "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    assert_int_equal(m.texts[2].alt_group, -1);

    assert_int_equal(m.nattachments, 4); /* the signature is not an attachment */
    assert_string_equal(m.attachments[0].name, "logo.png");
    assert_string_equal(m.attachments[0].type, "image/png");
    assert_int_equal(m.attachments[0].size, 8);
    assert_string_equal(m.attachments[1].name, "Rechnung M\xC3\xA4rz.pdf"); /* RFC 2231 */
    assert_string_equal(m.attachments[1].type, "application/pdf");
    assert_int_equal(m.attachments[1].size, 15);
    assert_string_equal(m.attachments[2].name, "\xD1\x81\xD1\x87\xD0\xB5\xD1\x82.exe"); /* 2047 */
    assert_int_equal(m.attachments[2].size, 2); /* "MZ" */
    assert_string_equal(m.attachments[3].name, "fwd.eml");
    assert_string_equal(m.attachments[3].type, "message/rfc822");

    /* the headers a rule may need, decoded; Received only the first three */
    int received = 0;
    bool ct = false, from = false;
    for (size_t i = 0; i < m.nheaders; i++) {
        received += strcmp(m.headers[i].name, "Received") == 0;
        if (strcmp(m.headers[i].name, "From") == 0) {
            from = true;
            assert_string_equal(m.headers[i].value, "Bank Support <support@bank.example>");
        }
        if (strcmp(m.headers[i].name, "Content-Type") == 0) {
            ct = true;
            assert_non_null(strstr(m.headers[i].value, "multipart/mixed"));
        }
    }
    assert_int_equal(received, 3);
    assert_true(ct && from);
}

static void broken(void **state)
{
    struct sg_mime m;
    /* the closing boundary never comes: both parts are still read */
    assert_int_equal(parse("Subject: b\r\nContent-Type: multipart/mixed; boundary=\"ZZ\"\r\n\r\n"
                           "--ZZ\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
                           "--ZZ\r\nContent-Type: text/plain\r\n\r\nsecond, no end\r\n", &m), 0);
    assert_true(m.broken);
    assert_int_equal(m.ntexts, 2);
    assert_string_equal(text_at(&m, 1), "second, no end\r\n");
    /* base64 with foreign characters: decoded as far as it goes, flagged */
    assert_int_equal(parse("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                           "Q2xhaW0g!!bm93\r\n", &m), 0);
    assert_true(m.broken);
    assert_non_null(strstr(text_at(&m, 0), "Claim"));
    assert_int_equal(parse("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                           "Q2xhaW0\r\n", &m), 0); /* not a multiple of four */
    assert_true(m.broken);
    /* a multipart without a boundary */
    assert_int_equal(parse("Content-Type: multipart/mixed\r\n\r\nbody\r\n", &m), 0);
    assert_true(m.broken);
    /* two Content-Type headers disagreeing: a classic filter evasion */
    assert_int_equal(parse("Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx", &m),
                     0);
    assert_true(m.broken);
    /* a repeated single field with another value is a conflict, also for the fields the
     * parse drops before GMime sees them (To, Cc, Date...); the same value twice is not */
    assert_int_equal(parse("To: a@x\r\nX-Junk: 1\r\nTo: b@x\r\nSubject: c\r\n\r\nx", &m), 0);
    assert_true(m.broken);
    assert_string_equal(m.subject, "c");
    assert_int_equal(parse("Cc: a@x\r\nCc: a@x\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                           "Received: 1\r\nReceived: 2\r\nReceived: 3\r\nReceived: 4\r\n"
                           "Subject: d\r\n\r\nx", &m), 0);
    assert_false(m.broken);
    assert_string_equal(m.subject, "d");
    /* kept fields in message order, whether GMime or the header filter reads them; encoded
     * values decoded, folds unfolded, only the first three Received */
    assert_int_equal(parse("Received: a\r\n  folded\r\nFrom: x@y.example\r\n"
                           "Received: =?utf-8?q?b=C3=A9?=\r\nTo: t@x\r\nMessage-ID: <m@z>\r\n"
                           "Received: c\r\nReceived: d\r\nSubject: s\r\n"
                           "Content-Type: text/plain\r\n\r\nx", &m), 0);
    static const char *const want[][2] = {
        {"Received", "a  folded"}, {"From", "x@y.example"}, {"Received", "b\xC3\xA9"},
        {"Message-ID", "<m@z>"},   {"Received", "c"},       {"Subject", "s"},
        {"Content-Type", "text/plain"}};
    assert_int_equal(m.nheaders, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < m.nheaders; i++) {
        assert_string_equal(m.headers[i].name, want[i][0]);
        assert_string_equal(m.headers[i].value, want[i][1]);
    }
    /* a line that is not a field is left for GMime to judge */
    assert_int_equal(parse("X-A: 1\r\nBad Name: 2\r\nSubject: e\r\n\r\nx", &m), 0);
    /* garbage reads without a crash */
    assert_int_equal(parse_n("\0\0garbage\xFF", 10, &m), 0);
    assert_int_equal(parse("", &m), 0);
    assert_int_equal(parse("Subject: only headers", &m), 0);
    assert_string_equal(m.subject, "only headers");
    /* an mbox From line is skipped */
    assert_int_equal(parse("From sender@x Mon Jan  1 00:00:00 2024\nSubject: mbox\n\nhi\n", &m),
                     0);
    assert_string_equal(m.subject, "mbox");
    assert_false(m.broken);
}

static char *nest(int depth)
{
    size_t cap = 200 + (size_t)depth * 120;
    char *s = malloc(cap), *p = s;
    for (int i = 0; i < depth; i++)
        p += snprintf(p, cap - (size_t)(p - s),
                      "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
    p += snprintf(p, cap - (size_t)(p - s), "Content-Type: text/plain\r\n\r\ndeep\r\n");
    for (int i = depth - 1; i >= 0; i--)
        p += snprintf(p, cap - (size_t)(p - s), "--b%d--\r\n", i);
    return s;
}

static void limits(void **state)
{
    struct sg_mime m;
    char *ok = nest(SG_MIME_MAX_DEPTH), *deep = nest(SG_MIME_MAX_DEPTH + 5);
    assert_int_equal(parse(ok, &m), 0);
    assert_int_equal(m.ntexts, 1);
    assert_int_equal(parse(deep, &m), SG_ETOOBIG);
    assert_true(m.over_limit);
    assert_int_equal(m.ntexts, 0);
    free(ok);
    free(deep);

    /* more parts than the limit: the first ones are read */
    size_t cap = 300 * 64 + 200;
    char *many = malloc(cap), *p = many;
    p += snprintf(p, cap, "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n");
    for (int i = 0; i < 300; i++)
        p += snprintf(p, cap - (size_t)(p - many), "--m\r\nContent-Type: text/plain\r\n\r\n%d\r\n",
                      i);
    snprintf(p, cap - (size_t)(p - many), "--m--\r\n");
    assert_int_equal(parse(many, &m), SG_ETOOBIG);
    assert_int_equal(m.ntexts, SG_MIME_MAX_PARTS - 1); /* the multipart itself is one */
    free(many);

    /* more than 1 MiB of text: cut at the limit, at a character boundary */
    size_t n = SG_MIME_MAX_TEXT + 1000;
    char *big = malloc(n + 64);
    int h = snprintf(big, 64, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    for (size_t i = (size_t)h; i + 1 < n; i += 2)
        memcpy(big + i, "\xC3\xA9", 2);
    assert_int_equal(parse_n(big, n - 1, &m), SG_ETOOBIG);
    assert_true(m.texts[0].len <= SG_MIME_MAX_TEXT);
    assert_true(m.texts[0].len >= SG_MIME_MAX_TEXT - 1);
    assert_int_equal(m.texts[0].len % 2, 0);
    free(big);
}

static void conversions(void **state)
{
    size_t n;
    bool cut;
    char *s = sg__mime_to_utf8(arena, "windows-1252", "\x80\x81\xFF", 3, 100, &n, &cut);
    assert_string_equal(s, "\xE2\x82\xAC\xC2\x81\xC3\xBF");
    s = sg__mime_to_utf8(arena, "utf-8", "\xEF\xBB\xBFhi", 5, 100, &n, &cut); /* BOM dropped */
    assert_string_equal(s, "hi");
    s = sg__mime_to_utf8(arena, "shift_jis", "\x82\xA0\x82", 3, 100, &n, &cut); /* cut short */
    assert_string_equal(s, "\xE3\x81\x82\xEF\xBF\xBD");
    s = sg__mime_to_utf8(arena, "utf-16le", "h\0i\0", 4, 100, &n, &cut);
    assert_string_equal(s, "hi");
    s = sg__mime_to_utf8(arena, NULL, "\xC3\xA9\xC3\xA9", 4, 3, &n, &cut);
    assert_string_equal(s, "\xC3\xA9");
    assert_true(cut);
}

/* Parses raw both ways (the fast path and GMime's whole-message reading) and checks they agree;
 * returns the fast reading in *m. */
static void same_both_ways(const char *raw, struct sg_mime *m)
{
    size_t len = strlen(raw);
    struct sg_mime ref;
    int rc = sg__mime_parse(arena, guarded(raw, len), len, m);
    assert_int_equal(sg__mime_parse_reference(arena, guarded(raw, len), len, &ref), rc);
    assert_true(sg__mime_same(m, &ref));
}

static const char *header_of(const struct sg_mime *m, const char *name, int nth)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcmp(m->headers[i].name, name) == 0 && nth-- == 0)
            return m->headers[i].value;
    return NULL;
}

/* The fast path (mime.c: parse_fast) against the reference, on what it reads itself and on each
 * case where it must step aside. */
static void fast_path(void **state)
{
    struct sg_mime m;
    /* what it reads itself: plain and encoded fields, the senders, the order of the fields */
    same_both_ways("Received: from a\r\n by b\r\nFrom: \"Ann B\" <ann@example.com>\r\n"
                   "Subject: =?utf-8?q?caf=C3=A9?= now\r\nX-Mailer: M\xC3\xA9l 1.0\r\n"
                   "Reply-To: <r@example.org>\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n",
                   &m);
    assert_string_equal(m.subject, "caf\xC3\xA9 now");
    assert_string_equal(m.from_name, "Ann B");
    assert_string_equal(m.from_addr, "ann@example.com");
    assert_string_equal(m.reply_to, "r@example.org");
    assert_string_equal(header_of(&m, "X-Mailer", 0), "M\xC3\xA9l 1.0");
    assert_string_equal(header_of(&m, "Received", 0), "from a by b");
    assert_string_equal(m.headers[m.nheaders - 1].name, "Content-Type");
    assert_false(m.broken);
    /* repeated single fields: the last Subject; another value is a conflict */
    same_both_ways("From: a@x\nSubject: one\nSubject: two\n\nbody\n", &m);
    assert_string_equal(m.subject, "two");
    assert_true(m.broken);
    same_both_ways("From: a@x\nSubject: one\nSubject: one\n\nbody\n", &m);
    assert_false(m.broken);
    same_both_ways("Message-ID: <=?utf-8?q?a?=>\nMessage-ID: <=?utf-8?q?b?=>\n\nx\n", &m);
    assert_true(m.broken);
    same_both_ways("Message-ID: <a@x>\nMessage-ID: <b@x>\n\nx\n", &m);
    assert_false(m.broken);
    /* a plain Subject longer than the value limit, folded: cut after unfolding */
    size_t cap = 12000; /* 9 + 1000 * 11 + 15 */
    char *long_subject = malloc(cap);
    int k = snprintf(long_subject, cap, "Subject: ");
    for (int i = 0; i < 1000; i++)
        k += snprintf(long_subject + k, cap - (size_t)k, "word\r\n    ");
    snprintf(long_subject + k, cap - (size_t)k, "end\r\n\r\nbody\r\n");
    same_both_ways(long_subject, &m);
    assert_true(strlen(m.subject) > 4000);
    free(long_subject);
    /* where it steps aside: repeated or unreadable address fields */
    same_both_ways("From: a@x\nFrom: b@y\nReply-To: c@z\nReply-To: d@w\n\nx\n", &m);
    same_both_ways("From: <<<@@@\nReply-To: ,,,\n\nx\n", &m);
    /* a line that is not a field, a block cut off by the end, a stray From line */
    same_both_ways("From: a@x\nnot a field\nSubject: s\n\nx\n", &m);
    assert_true(m.broken);
    same_both_ways("From: a@x\nSubject: s\n", &m);
    same_both_ways("From a@x Mon Jan 1 00:00:00 2024\nFrom b@y Mon Jan 1 00:00:00 2024\n"
                   "Subject: s\n\nx\n", &m);
    /* a boundary as the last line (no header block after it), message/rfc822 parts */
    same_both_ways("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n", &m);
    same_both_ways("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b", &m);
    same_both_ways("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\n", &m);
    same_both_ways("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                   "Content-Type: message/rfc822\n\n", &m);
    same_both_ways("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                   "Content-Type: message/rfc822\n\nSubject: inner\n\nin\n--b--\n", &m);
    assert_int_equal(m.ntexts, 1);
    same_both_ways("Content-Type: message/rfc822\n\nFrom: i@x\n\ninner\n", &m);
    /* nested multiparts, conflicting Content-* fields, an alternative group */
    same_both_ways("Content-Type: multipart/alternative; boundary=o\n"
                   "Content-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n\n"
                   "--o\nContent-Type: text/plain\n\nplain\n--o\nContent-Type: text/html\n\n"
                   "<p>html</p>\n--o--\n", &m);
    assert_int_equal(m.ntexts, 2);
    assert_true(m.broken);
}

/* Sender fields read without GMime's address parser (mime.c: simple_mailbox) and the near
 * misses left to it, against the reference: names as written or quoted, white space around
 * them, a display name starting with a dot, comments, groups, escapes, folds, punycode. */
static void simple_senders(void **state)
{
    static const char *const values[] = {
        "a@x.example", "Ann B <ann@x.example>", " \"Ann  B \" <ann@x.example> ",
        "J. Smith\t<j@x.example>", "O'Brien<o@x.example>", "\"\" <e@x.example>",
        "<b+t=x.example@y.example>", ".Ann <ann@x.example>", "a@x.example (Ann)",
        "G: a@x.example;", "\"a\\\"b\" <c@x.example>", "Ann\r\n B <ann@x.example>",
        "a@xn--bcher-kva.example", "Ann <ann@x.example", "=?utf-8?q?A?= <a@x.example>",
        "a@x.example, b@x.example", "a.@x.example", "\"<b>\" <b@x.example>",
    };
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char raw[512];
        snprintf(raw, sizeof raw, "From: %s\r\nReply-To: %s\r\nSubject: s\r\n\r\nbody\r\n",
                 values[i], values[i]);
        struct sg_mime m;
        same_both_ways(raw, &m);
    }
    struct sg_mime m;
    same_both_ways("From: \"Ann  B \" <ann@x.example>\nReply-To: r@x.example\n\nx\n", &m);
    assert_string_equal(m.from_name, "Ann  B");
    assert_string_equal(m.from_addr, "ann@x.example");
    assert_string_equal(m.reply_to, "r@x.example");
    (void)state;
}

/* A single leaf part read without GMime's parser (mime.c: parse_leaf) against the reference:
 * transfer encodings, charsets, attachments by disposition or name, and where it steps aside. */
static void leaf_path(void **state)
{
    (void)state;
    struct sg_mime m;
    same_both_ways("Subject: s\nContent-Type: text/plain; charset=iso-8859-1\n"
                   "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 =\nnow\n", &m);
    assert_int_equal(m.ntexts, 1);
    assert_string_equal(m.texts[0].text, "caf\xC3\xA9 now\n");
    same_both_ways("Content-Type: text/html;\n charset=\"utf-8\"\nContent-Transfer-Encoding: "
                   "BASE64\n\nPGI+aGk8L2I+\n", &m);
    assert_true(m.texts[0].html);
    same_both_ways("Content-Transfer-Encoding: base64\n\nPGI+aGk8L2I\n", &m); /* needs repair */
    assert_true(m.broken);
    same_both_ways("Content-Type: application/pdf; name=\"a.pdf\"\n"
                   "Content-Transfer-Encoding: base64\n\nJVBERi0=\n", &m);
    assert_int_equal(m.nattachments, 1);
    assert_string_equal(m.attachments[0].type, "application/pdf");
    same_both_ways("Content-Type: text/plain\nContent-Disposition: attachment; filename=x.txt\n"
                   "\nhello\n", &m);
    assert_int_equal(m.nattachments, 1);
    same_both_ways("Content-Type: application/pgp-signature\n\nsig\n", &m);
    same_both_ways("Content-Type: text/plain; name=\"a\n b.txt\"\n\nfolded name\n", &m);
    same_both_ways("MIME-Version: 1.0\n\n", &m); /* no content */
    same_both_ways("Content-Type: text/plain\r\n\r\nline\r\n", &m);
    /* where it steps aside: 8-bit and encoded values, repeated fields, a comment after the
     * encoding, a type GMime does not read, message/ parts */
    same_both_ways("Content-Type: \x95\x9a/plain; charset=koi8-r\r\n\r\n\xf0\xd2\r\n", &m);
    same_both_ways("Content-Type: text/plain; name==?utf-8?q?a=C3=A9?=\n\nx\n", &m);
    same_both_ways("Content-Type: text/plain\nContent-Type: text/html\n\nx\n", &m);
    same_both_ways("Content-Transfer-Encoding: base64 (b)\n\naGk=\n", &m);
    same_both_ways("Content-Transfer-Encoding: base64\f\r\n\r\naGk=\r\n", &m);
    same_both_ways("Content-Type: text\n\nx\n", &m);
    same_both_ways("Content-Type: message/partial; id=1; number=1\n\nx\n", &m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaf_path), cmocka_unit_test(charsets),  cmocka_unit_test(transfer_encodings),
        cmocka_unit_test(structure), cmocka_unit_test(broken),
        cmocka_unit_test(limits),    cmocka_unit_test(conversions),
        cmocka_unit_test(fast_path),
        cmocka_unit_test(simple_senders),
    };
    return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
