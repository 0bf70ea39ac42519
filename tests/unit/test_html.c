/* HTML extraction (text/html.c): visible text with block breaks and entities, what is skipped,
 * every hidden-text trick counted and kept out of the text, links with anchor text, forms and
 * password fields, images without alt text, limits. Inputs end right before a PROT_NONE page. */
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
#include "text/html.h"
#include "text/html_prepass.h"
#include "text/same.h"
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

static struct sg_html extract(const char *html)
{
    struct sg_html h;
    size_t len = strlen(html);
    assert_int_equal(sg__html_extract(arena, guarded(html, len), len, 1 << 20, &h), 0);
    assert_int_equal(strlen(h.text), h.text_len);
    return h;
}

static void expect_text(const char *html, const char *want)
{
    struct sg_html h = extract(html);
    if (strcmp(h.text, want) != 0)
        print_error("text of %s:\n  got  \"%s\"\n  want \"%s\"\n", html, h.text, want);
    assert_string_equal(h.text, want);
}

static void visible_text(void **state)
{
    expect_text("<html><head><title>Title</title><style>p{color:red}</style>"
                "<script>var a = '<p>no</p>';</script></head>"
                "<body><p>Hello &amp; welcome,&nbsp;friend</p><div>Line<br>two <b>bold</b>"
                "<i>it</i></div><template><p>t</p></template><noscript>ns</noscript>"
                "<ul><li>one</li><li>two</li></ul></body></html>",
                "Hello & welcome,\xC2\xA0" "friend\nLine\ntwo boldit\none\ntwo");
    expect_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
    expect_text("plain words   with\n\n  spaces", "plain words with spaces");
    expect_text("<pre>  keep\n  lines</pre>after", "keep\n  lines\nafter");
    expect_text("&eacute;&#233;&#xE9; &lt;tag&gt; &#x1F600; &unknown;",
                "\xC3\xA9\xC3\xA9\xC3\xA9 <tag> \xF0\x9F\x98\x80 &unknown;");
    expect_text("a<br><br><br><br>b", "a\n\nb");
    expect_text("", "");
    /* read as UTF-8 whatever the document claims */
    expect_text("<meta charset=\"iso-8859-1\"><p>caf\xC3\xA9</p>", "caf\xC3\xA9");
}

static void broken_markup(void **state)
{
    expect_text("<p>unclosed <b>bold <i>both</p>after", "unclosed bold both\nafter");
    expect_text("<div><span>x</div></span>y", "x\ny");
    expect_text("a < b && c > d", "a < b && c > d");
    extract("<<<>>>&&&<</<!<?<a<b");
    expect_text("<p attr=\"unterminated>text", "");
    expect_text("</p></div>stray end tags", "stray end tags");
    expect_text("<!-- comment --><p>seen</p><!-- unclosed comment", "seen");
    expect_text("<scr<script>ipt>alert(1)</script>x", "ipt>alert(1)x");
}

static uint32_t hidden(const char *html, const char *want_text)
{
    struct sg_html h = extract(html);
    if (strcmp(h.text, want_text) != 0)
        print_error("text of %s: \"%s\"\n", html, h.text);
    assert_string_equal(h.text, want_text);
    return h.hidden_chars;
}

static void hidden_text(void **state)
{
    assert_int_equal(hidden("a<span style=\"display:none\">secret words</span>b", "ab"), 11);
    assert_int_equal(hidden("a<div style=\"DISPLAY: none !important\">xyz</div>b", "a\nb"), 3);
    assert_int_equal(hidden("<p style=\"visibility:hidden\">gone</p>ok", "ok"), 4);
    assert_int_equal(hidden("<p style=\"font-size:0\">z</p><p style=\"font-size: 0px\">zz</p>"
                            "<p style=\"font-size:1px\">t</p><p style=\"font-size:0.1em\">e</p>ok",
                            "ok"), 5);
    assert_int_equal(hidden("<p style=\"font-size:12px\">big</p>", "big"), 0);
    /* same colour as the background, set on the element or a parent */
    assert_int_equal(hidden("<div style=\"color:#fff;background-color:#ffffff\">white</div>ok",
                            "ok"), 5);
    assert_int_equal(hidden("<td bgcolor=\"black\"><font color=\"#000001\">dark</font> lit</td>",
                            "lit"), 4);
    assert_int_equal(hidden("<div style=\"background:#fafafa url(x.png)\"><span style=\"color:"
                            "rgb(250, 250, 251)\">pale</span></div>", ""), 4);
    /* white text without a known background is not hidden (a stylesheet may darken it) */
    assert_int_equal(hidden("<span style=\"color:#ffffff\">maybe</span>", "maybe"), 0);
    assert_int_equal(hidden("<span style=\"color:rgba(0,0,0,0)\">clear</span>", ""), 5);
    assert_int_equal(hidden("<span style=\"opacity:0\">o</span><span hidden>h</span>", ""), 2);
    assert_int_equal(hidden("<div style=\"max-height:0;overflow:hidden\">pre</div>x", "x"), 3);
    assert_int_equal(hidden("<div style=\"mso-hide:all\">m</div><p style=\"text-indent:-9999px\">"
                            "i</p>", ""), 2);
    /* inherited by children; a visible sibling afterwards is visible */
    assert_int_equal(hidden("<div style=\"display:none\"><p>a <b>b</b></p></div><p>seen</p>",
                            "seen"), 2);
}

static void links(void **state)
{
    struct sg_html h = extract(
        "<p>Log in at <a href=\" https://claim-nft.io/win?a=1&amp;b=2 \">www.bank.example</a>"
        " or <a href='mailto:x@y.z'>mail <b>us</b></a>.</p>"
        "<a href=\"https://x.io\"><img src=\"i.png\"></a>"
        "<a name=\"anchor-only\">no href</a>"
        "<map><area href=\"https://area.example/\" alt=\"Area\"></map>"
        "<a href=\"https://hidden.example/\" style=\"display:none\">hidden link</a>"
        "<a href=\"ht\ntps://split.example/\">split</a>");
    assert_int_equal(h.nlinks, 6);
    assert_string_equal(h.links[0].href, "https://claim-nft.io/win?a=1&b=2");
    assert_string_equal(h.links[0].anchor, "www.bank.example");
    assert_string_equal(h.links[1].href, "mailto:x@y.z");
    assert_string_equal(h.links[1].anchor, "mail us");
    assert_string_equal(h.links[2].href, "https://x.io");
    assert_string_equal(h.links[2].anchor, "");
    assert_string_equal(h.links[3].href, "https://area.example/");
    assert_string_equal(h.links[3].anchor, "Area");
    assert_string_equal(h.links[4].href, "https://hidden.example/");
    assert_string_equal(h.links[4].anchor, ""); /* hidden text is not shown */
    assert_string_equal(h.links[5].href, "https://split.example/");
    assert_string_equal(h.text, "Log in at www.bank.example or mail us.\nno hrefsplit");
    assert_int_equal(h.hidden_chars, 10);
}

static void forms_and_images(void **state)
{
    struct sg_html h = extract(
        "<form action=\"https://collect.example/login\" method=post>"
        "<input type=text name=u><INPUT TYPE=\"Password\" name=p><input type=submit></form>"
        "<form><input type=password></form>"
        "<img src=a.png><img src=b.png alt=\"\"><img src=c.png alt=\"  \"><img src=d.png alt=Logo>"
        "<img src=pixel.gif width=1 height=1><img src=e.png width=\"600\">");
    assert_int_equal(h.forms, 2);
    assert_int_equal(h.password_inputs, 2);
    assert_int_equal(h.images, 5);              /* the tracking pixel is not content */
    assert_int_equal(h.images_without_text, 4);
    assert_int_equal(h.nlinks, 1);              /* the form action */
    assert_string_equal(h.links[0].href, "https://collect.example/login");
    assert_null(h.links[0].anchor);
}

static void limits(void **state)
{
    /* text over the maximum is cut at a character boundary */
    struct sg_html h;
    const char *html = "<p>\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9</p>";
    assert_int_equal(sg__html_extract(arena, guarded(html, strlen(html)), strlen(html), 5, &h),
                     0);
    assert_string_equal(h.text, "\xC3\xA9\xC3\xA9");
    assert_true(h.truncated);
    /* at most SG_HTML_MAX_LINKS links */
    size_t cap = 300 * 40;
    char *many = malloc(cap), *p = many;
    for (int i = 0; i < 300; i++)
        p += snprintf(p, cap - (size_t)(p - many), "<a href=\"https://e%d.io/\">%d</a>", i, i);
    h = extract(many);
    assert_int_equal(h.nlinks, SG_HTML_MAX_LINKS);
    assert_true(h.truncated);
    free(many);
    /* deep nesting: the state of the deepest tracked element carries on */
    size_t n = 2000 * 5 + 64;
    char *deep = malloc(n);
    p = deep;
    p += snprintf(p, n, "<div style=\"display:none\">");
    for (int i = 0; i < 2000; i++)
        p += snprintf(p, n - (size_t)(p - deep), "<div>");
    snprintf(p, n - (size_t)(p - deep), "x");
    h = extract(deep);
    assert_string_equal(h.text, "");
    free(deep);
    /* anchor text is cut at SG_HTML_MAX_ANCHOR */
    char *longa = malloc(2000);
    p = longa + snprintf(longa, 2000, "<a href=\"https://a.io\">");
    memset(p, 'x', 1000);
    snprintf(p + 1000, 2000 - (size_t)(p + 1000 - longa), "</a>");
    h = extract(longa);
    assert_int_equal(strlen(h.links[0].anchor), SG_HTML_MAX_ANCHOR);
    free(longa);
}

/* The paths on_start, on_end and on_text take to stay cheap: one pass over the attributes, tag
 * classes cached by name address, text collapsed straight into the buffer when it fits. */
static void fast_paths(void **state)
{
    /* a run that fits is written whole; one that does not is cut word by word at the limit
     * (top-level text is in a paragraph libxml2 implies: its line break needs a byte too) */
    struct sg_html h;
    const char *fits = "ab  cd", *over = "ab  cde";
    assert_int_equal(sg__html_extract(arena, guarded(fits, strlen(fits)), strlen(fits), 6, &h), 0);
    assert_string_equal(h.text, "ab cd");
    assert_false(h.truncated);
    assert_int_equal(sg__html_extract(arena, guarded(over, strlen(over)), strlen(over), 5, &h), 0);
    assert_string_equal(h.text, "ab cd");
    assert_true(h.truncated);
    /* a space pending from one text run is written before the next */
    expect_text("one <b>two</b> <i> three</i>", "one two three");
    /* an end tag closes an element libxml2 implied (its name is not a dictionary string) */
    expect_text("text</p>after", "text\nafter");
    /* the first of repeated attributes counts; names are read in any case */
    h = extract("<a href=\"https://first.example/\" href=\"https://second.example/\">x</a>"
                "<IMG SRC=p.gif WIDTH=1><FONT COLOR=white><SPAN STYLE=\"display:none\">h</SPAN>"
                "</FONT><span style=\"color:red\" style=\"display:none\">red</span>");
    assert_int_equal(h.nlinks, 1);
    assert_string_equal(h.links[0].href, "https://first.example/");
    assert_int_equal(h.images, 0);
    assert_int_equal(h.hidden_chars, 1);
    assert_string_equal(h.text, "xred");
    /* an unclosed link inside a hidden block: its anchor is empty, the text after is seen */
    h = extract("<div style=\"display:none\"><a href=\"https://u.example/\">hid <div>x</div>"
                "</div>shown");
    assert_int_equal(h.nlinks, 1);
    assert_string_equal(h.links[0].anchor, "");
    assert_string_equal(h.text, "shown");
    /* more distinct tag names than the cache has slots: classes stay right */
    size_t cap = 300 * 32;
    char *many = malloc(cap), *p = many, *want = malloc(300 * 2 + 1), *w = want;
    for (int i = 0; i < 300; i++) {
        p += snprintf(p, cap - (size_t)(p - many), "<t%d><p>w</p></t%d>", i, i);
        w += snprintf(w, 3, i ? "\nw" : "w");
    }
    expect_text(many, want);
    free(many);
    free(want);
}

/* What the pre-pass leaves of html (the input itself when it steps aside). */
static const char *prepassed(const char *html, bool *changed)
{
    size_t len = strlen(html);
    const char *in = guarded(html, len), *out;
    struct sg_html_runs runs;
    size_t n = sg__html_prepass(arena, in, len, &out, &runs);
    *changed = out != in;
    char *copy = sg__arena_alloc(arena, n + 1);
    memcpy(copy, out, n);
    copy[n] = '\0';
    return copy;
}

/* The pre-pass (text/html_prepass.c): what it drops, where it steps aside, and that html.c
 * reads the same either way. */
static void prepass(void **state)
{
    bool changed;
    /* unread attributes (any quoting), comment, style and script bodies go; the rest stays */
    assert_string_equal(prepassed("<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.0//EN\">"
                                  "<td class=\"a b\" WIDTH=3 id='x>y' nowrap bgcolor=#fff>t"
                                  "<!-- a -- b --><style type=\"text/css\">p{}</style>"
                                  "<SCRIPT>if (a</b) x();</Script ><a href=/x target=_blank>l</a>",
                                  &changed),
                        "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.0//EN\">"
                        "<td  WIDTH=3   bgcolor=#fff>t<!---->"
                        "<style type=\"\xF3\xB0\x80\x80\"></style><SCRIPT></Script ><a href=/x >l</a>");
    assert_true(changed);
    /* plain text and attribute values stand in as placeholders (U+F0000 + their index), from
     * the first to the last non-blank byte; not text with a reference, a '<' or 8-bit bytes in
     * it, text after a '<' that is text, or any of it where the document could hold one */
    assert_string_equal(prepassed("Hello there <p>\n  some words\n</p><a href=\"http://x.y/z\">"
                                  "a &amp; b</a>caf\xC3\xA9 ok<b>x < y and more</b>",
                                  &changed),
                        "\xF3\xB0\x80\x80 <p>\n  \xF3\xB0\x80\x81\n</p><a href=\"\xF3\xB0\x80\x82\">"
                        "a &amp; b</a>caf\xC3\xA9 ok<b>x < y and more</b>");
    assert_string_equal(prepassed("<p>some words</p>&#1048575;", &changed),
                        "<p>some words</p>&#1048575;");
    assert_string_equal(prepassed("<p>some words</p>\xF3\xB0\x80\x80", &changed),
                        "<p>some words</p>\xF3\xB0\x80\x80");
    assert_string_equal(prepassed("<meta http-equiv=content-type content=\"text/html\">"
                                  "<br class=x/><img src=a alt=b/>",
                                  &changed),
                        "<meta http-equiv=content-type content=\"text/html\"><br ><img  alt=b/>");
    assert_string_equal(prepassed("a<!---->b<!-- x --!>c", &changed), "a<!---->b<!----!>c");
    /* where it steps aside: unterminated comments, tags, quotes; a script body that starts with
     * a tag or ends in another element's end tag; a NUL; DOCTYPE and PI it cannot end for sure */
    const char *aside[] = {
        "<p class=x>a<!-- never closed",
        "<p class=x>a<td class=\"open",
        "<p class=x",
        "<p class=x><script></p>x</script>",
        "<p class=x><style>a</styles>b</style>",
        "<p class=x><style>never closed",
        "<!DOCTYPE x SYSTEM 'a>b'><p class=x>",
        "<!DOCTYPE x \"a>b\"><p class=x>",
        "<?\xC3\xA9 x><p class=x>",
        "<?xml x<p class=x>",
    };
    for (size_t i = 0; i < sizeof aside / sizeof aside[0]; i++) {
        prepassed(aside[i], &changed);
        assert_false(changed);
    }
    size_t len;
    const char *out, *nul = guarded("<p class=x>a\0b", 14);
    struct sg_html_runs runs;
    len = sg__html_prepass(arena, nul, 14, &out, &runs);
    assert_true(out == nul && len == 14);
    /* html.c reads the same with and without it, on all of the above and on broken markup */
    const char *docs[] = {
        "<td class=\"a b\" WIDTH=3 id='x>y' nowrap bgcolor=#fff>t<!-- a -- b -->u"
        "<style type=\"text/css\">p{}</style><SCRIPT>x</Script ><a href=/x target=_blank>l</a>",
        "<p style=\"display:none\" class=c>hidden</p><p>shown</p><font color=#fff>w</font>",
        "<a href=x/>not empty</a><a title=t href = 'y' >z</a>< p>lt</ p>",
        "<a / href=x>a</a><a href=x class=\"y\"href=z>b</a><div class>c</div>",
        "<b>1</b><!-->2<!--->3-->4<!-- x --!>5",
        "<form action=/p class=f><input type=password name=p></form><img src=x width=1 height=1>",
        "<html><body class=a><body class=b>x</body></html>",
        "<style>a</styles>b</style>c", "<p class=x><script></p>x</script>y",
        "Hello there <p>\n  some words\n</p><a href=\"http://x.y/z\">a &amp; b</a>caf\xC3\xA9 ok"
        "<pre>  keep   these  </pre><b>x < y and more</b><p style=\"display: none\">hidden words",
        "<p>some words &#983040; and</p>more words<a href='http://a.b/c'>x</a>",
        "<font color=\"#ff0000\">some words</font><td bgcolor=\"white\">cell text</td>",
        "<a href  bhref=x<i  =\"<td? td>some text<b>more words\">after</a>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct sg_html h, ref;
        size_t n = strlen(docs[i]);
        assert_int_equal(sg__html_extract(arena, guarded(docs[i], n), n, 4096, &h), 0);
        assert_int_equal(sg__html_extract_reference(arena, guarded(docs[i], n), n, 4096, &ref), 0);
        assert_true(sg__html_same(&h, &ref));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(visible_text), cmocka_unit_test(broken_markup),
        cmocka_unit_test(hidden_text),  cmocka_unit_test(links),
        cmocka_unit_test(forms_and_images), cmocka_unit_test(limits),
        cmocka_unit_test(fast_paths),   cmocka_unit_test(prepass),
    };
    return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
