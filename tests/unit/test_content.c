/* Content building (text/content.c) end to end: the event's fields or its raw mail become the
 * text, normalised text with its offset map, URLs, attachments, sender and trick counts that
 * the content checks read. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/event.h"
#include "sendguard.h"
#include "text/content.h"
#include "util/arena.h"
#include "support/arena_fixture.h"


static struct sg_content build(struct sg_event *ev, int want_rc)
{
    struct sg_content c;
    assert_int_equal(sg__content_build(arena, ev, &c), want_rc);
    assert_non_null(c.subject);
    assert_non_null(c.text);
    assert_non_null(c.norm);
    assert_non_null(c.norm_subject);
    assert_int_equal(strlen(c.text), c.text_len);
    assert_int_equal(strlen(c.norm), c.norm_len);
    /* the map: one entry per norm byte and one past the end, pointing at character starts */
    assert_int_equal(c.norm_to_text[c.norm_len], c.text_len);
    for (size_t i = 0; i < c.norm_len; i++) {
        assert_true(c.norm_to_text[i] < c.text_len);
        assert_true(((unsigned char)c.text[c.norm_to_text[i]] & 0xC0) != 0x80);
        if (i)
            assert_true(c.norm_to_text[i] >= c.norm_to_text[i - 1]);
    }
    return c;
}

static void set_body(struct sg_event *ev, const char *body, const char *html)
{
    ev->body = body;
    ev->body_len = body ? strlen(body) : 0;
    ev->html = html;
    ev->html_len = html ? strlen(html) : 0;
}

static void fields(void **state)
{
    struct sg_event ev = {.type = SG_EV_MESSAGE};
    struct sg_attachment att[] = {{"prize.pdf", "application/pdf", 1234}};
    ev.subject = "\xCF\xB9l\xD0\xB0\xD1\x96m \xD1\x83\xD0\xBEur NF\xD0\xA2";
    set_body(&ev, "Dear patient,\nyour prize is waiting at claim-nft.io/win",
             "<p>Log in at <a href=\"https://claim-nft.io/win\">www.bank.example</a>"
             "<span style=\"display:none\">hidden bayes poison</span></p>"
             "<form action=\"https://claim-nft.io/post\"><input type=password></form>"
             "<img src=x.png>");
    ev.attachments = att;
    ev.nattachments = 1;
    struct sg_content c = build(&ev, 0);
    assert_string_equal(c.norm_subject, "claim your nft");
    assert_string_equal(c.text, "Dear patient,\nyour prize is waiting at claim-nft.io/win\n\n"
                                "Log in at www.bank.example");
    assert_string_equal(c.norm, "dear patient, your prize is waiting at claim-nft.io/win "
                                "log in at www.bank.example");
    assert_true(c.has_html);
    assert_false(c.mime_broken);
    assert_int_equal(c.hidden_chars, 17);
    assert_int_equal(c.forms, 1);
    assert_int_equal(c.password_inputs, 1);
    assert_int_equal(c.images, 1);
    assert_int_equal(c.images_without_text, 1);
    assert_int_equal(c.nattachments, 1);
    assert_string_equal(c.attachments[0].name, "prize.pdf");
    assert_int_equal(c.attachments[0].size, 1234);
    assert_null(c.from_addr);
    /* links first (with their anchors), then what the text shows */
    assert_int_equal(c.nurls, 4);
    assert_string_equal(c.urls[0].url, "https://claim-nft.io/win");
    assert_int_equal(c.urls[0].flags, SG_URL_FROM_HTML | SG_URL_ANCHOR_MISMATCH);
    assert_string_equal(c.urls[0].anchor_domain, "bank.example");
    assert_string_equal(c.urls[1].url, "https://claim-nft.io/post");
    assert_string_equal(c.urls[2].url, "http://claim-nft.io/win");
    assert_int_equal(c.urls[2].flags, SG_URL_SCHEMELESS);
    assert_string_equal(c.urls[3].host, "www.bank.example");

    /* quoting a match in norm back in the original text */
    const char *hit = strstr(c.norm, "prize");
    size_t at = (size_t)(hit - c.norm);
    assert_memory_equal(c.text + c.norm_to_text[at], "prize", 5);
}

static void alternatives(void **state)
{
    struct sg_event ev = {.type = SG_EV_MESSAGE};
    /* the plain version says what the HTML shows: kept once */
    set_body(&ev, "Hello   world,\r\nsee you", "<p>Hello world,</p><p>see you</p>");
    struct sg_content c = build(&ev, 0);
    assert_string_equal(c.text, "Hello   world,\r\nsee you");
    /* different words: both */
    set_body(&ev, "Your invoice is attached", "<p>Claim your <b>NFT</b></p>");
    c = build(&ev, 0);
    assert_string_equal(c.text, "Your invoice is attached\n\nClaim your NFT");
    /* no content at all */
    struct sg_event empty = {.type = SG_EV_MESSAGE};
    c = build(&empty, 0);
    assert_string_equal(c.text, "");
    assert_string_equal(c.subject, "");
    assert_int_equal(c.nurls, 0);
    assert_false(c.has_html);
}

static const char raw_mail[] =
    "From: =?UTF-8?B?QmFuayBTdXBwb3J0?= <support@bank.example>\r\n"
    "Reply-To: claims@nft-prize.io\r\n"
    "Subject: =?UTF-8?Q?Voc=C3=AA_ganhou_um_NFT?=\r\n"
    "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
    "--o\r\n"
    "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
    "--a\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Voc=EA ganhou! Resgate em claim-prize[.]com\r\n"
    "--a\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    "<p>Voc\xC3\xAA ganhou! <a href=\"https://bit.ly/x\">Resgate</a></p>\r\n"
    "--a--\r\n"
    "--o\r\n"
    "Content-Type: application/zip; name=\"wallet.zip\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "UEsDBA==\r\n"
    "--o--\r\n";

static void raw(void **state)
{
    struct sg_event ev = {.type = SG_EV_MESSAGE, .subject = "ignored: raw wins"};
    ev.raw = raw_mail;
    ev.raw_len = sizeof raw_mail - 1;
    set_body(&ev, "ignored body", NULL);
    struct sg_content c = build(&ev, 0);
    assert_string_equal(c.subject, "Voc\xC3\xAA ganhou um NFT");
    assert_string_equal(c.norm_subject, "voc\xC3\xAA ganhou um nft");
    assert_string_equal(c.text, "Voc\xC3\xAA ganhou! Resgate em claim-prize[.]com\n\n"
                                "Voc\xC3\xAA ganhou! Resgate");
    assert_string_equal(c.from_name, "Bank Support");
    assert_string_equal(c.from_addr, "support@bank.example");
    assert_string_equal(c.reply_to, "claims@nft-prize.io");
    assert_true(c.nheaders >= 4);
    assert_true(c.has_html);
    assert_false(c.mime_broken);
    assert_int_equal(c.nattachments, 1);
    assert_string_equal(c.attachments[0].name, "wallet.zip");
    assert_string_equal(c.attachments[0].type, "application/zip");
    assert_int_equal(c.attachments[0].size, 4);
    assert_int_equal(c.nurls, 2);
    assert_string_equal(c.urls[0].url, "https://bit.ly/x");
    assert_int_equal(c.urls[0].flags, SG_URL_FROM_HTML | SG_URL_SHORTENER);
    assert_string_equal(c.urls[0].anchor, "Resgate");
    assert_string_equal(c.urls[1].host, "claim-prize.com");
    assert_int_equal(c.urls[1].flags, SG_URL_DEFANGED | SG_URL_SCHEMELESS);

    /* a broken raw mail still gives what it can, and the event's fields fill the gaps */
    static const char broken[] = "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n"
                                 "--z\r\nContent-Type: image/png\r\n\r\nPNG";
    struct sg_event ev2 = {.type = SG_EV_MESSAGE, .subject = "from the event"};
    struct sg_attachment att[] = {{"a.pdf", NULL, -1}};
    ev2.raw = broken;
    ev2.raw_len = sizeof broken - 1;
    ev2.attachments = att;
    ev2.nattachments = 1;
    set_body(&ev2, "fallback body", NULL);
    c = build(&ev2, 0);
    assert_true(c.mime_broken);
    assert_string_equal(c.subject, "from the event");
    assert_string_equal(c.text, "fallback body");
    assert_int_equal(c.nattachments, 1);
    assert_string_equal(c.attachments[0].type, "image/png"); /* the MIME structure wins */
}

static void tricks(void **state)
{
    struct sg_event ev = {.type = SG_EV_MESSAGE};
    ev.subject = "Fr\xE2\x80\x8B" "ee \xE2\x80\xAEprize";
    set_body(&ev, "cl\xC2\xAD" "aim \xE2\x80\x8D" "now \xE2\x81\xA6x\xE2\x81\xA9", NULL);
    struct sg_content c = build(&ev, 0);
    assert_string_equal(c.norm_subject, "free prize");
    assert_string_equal(c.norm, "claim now x");
    assert_int_equal(c.zero_width, 3);
    assert_int_equal(c.bidi_controls, 3);
    /* invalid UTF-8 in a field is repaired in text */
    set_body(&ev, "bad\xFF" "byte", NULL);
    c = build(&ev, 0);
    assert_string_equal(c.text, "bad\xEF\xBF\xBD" "byte");
}

static void limits(void **state)
{
    /* more than 1 MiB of body text: cut, the rest of the content still built */
    size_t n = (1u << 20) + 4096;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = "word "[i % 5];
    big[n] = '\0';
    struct sg_event ev = {.type = SG_EV_MESSAGE, .subject = "s"};
    set_body(&ev, big, "<a href=\"https://a.io/\">x</a>");
    struct sg_content c = build(&ev, SG_ETOOBIG);
    assert_true(c.text_len <= 1u << 20);
    assert_int_equal(c.nurls, 1);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields), cmocka_unit_test(alternatives), cmocka_unit_test(raw),
        cmocka_unit_test(tricks), cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
