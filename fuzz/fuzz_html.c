/* Fuzz harness: any bytes as an HTML document. The visible text must be valid UTF-8 within the
 * limit given, links and counts consistent, and the same with and without the pre-pass
 * (html_prepass.c); the links then go through the URL parser and the text through
 * normalisation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "text/html.h"
#include "text/normalize.h"
#include "text/same.h"
#include "text/urls.h"
#include "util/arena.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s, size_t n)
{
    if (strlen(s) != n)
        abort();
    for (size_t i = 0; i < n;) {
        size_t k = sg__utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0)
            abort();
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_arena *arena;
    if (!arena)
        arena = sg__arena_new(0);
    /* The content layer hands html.c clean UTF-8; so does this harness. */
    size_t n;
    char *html = sg__utf8_clean(arena, (const char *)data, size, &n);
    struct sg_html h;
    size_t max = 1 + size % 4096; /* vary the limit to reach the truncation paths */
    if (!html || sg__html_extract(arena, html, n, max, &h) != 0)
        abort();
    struct sg_html ref;
    if (sg__html_extract_reference(arena, html, n, max, &ref) != 0 || !sg__html_same(&h, &ref))
        abort();
    check_utf8(h.text, h.text_len);
    if (h.text_len > max || h.nlinks > SG_HTML_MAX_LINKS)
        abort();
    struct sg_url_list urls = {0};
    for (size_t i = 0; i < h.nlinks; i++) {
        if (!h.links[i].href || (h.links[i].anchor && strlen(h.links[i].anchor) > SG_HTML_MAX_ANCHOR))
            abort();
        if (sg__urls_add_href(arena, h.links[i].href, h.links[i].anchor, &urls) != 0)
            abort();
    }
    struct sg_norm norm;
    if (sg__normalize(arena, h.text, h.text_len, true, &norm) != 0)
        abort();
    check_utf8(norm.s, norm.len);
    sg__arena_reset(arena);
    return 0;
}
