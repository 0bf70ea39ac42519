/* Fuzz harness: any bytes as a raw RFC 822 message, read by the MIME layer and then built into
 * content (HTML, URLs and normalisation on whatever text comes out). Every string handed back
 * must be valid UTF-8 within its stated length, the limits must hold, and the fast path must
 * read the message exactly as the reference (whole-message) reading does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/event.h"
#include "sendguard.h"
#include "text/content.h"
#include "text/mime.h"
#include "text/same.h"
#include "util/arena.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s, size_t n)
{
    if (!s)
        return;
    if (strlen(s) != n)
        abort();
    for (size_t i = 0; i < n;) {
        size_t k = sg__utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0)
            abort();
        i += k;
    }
}

static void check_str(const char *s)
{
    if (s)
        check_utf8(s, strlen(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_arena *arena;
    if (!arena)
        arena = sg__arena_new(0);
    struct sg_mime m;
    int rc = sg__mime_parse(arena, (const char *)data, size, &m);
    if (rc != 0 && rc != SG_ETOOBIG)
        abort();
    size_t total = 0;
    for (size_t i = 0; i < m.ntexts; i++) {
        check_utf8(m.texts[i].text, m.texts[i].len);
        total += m.texts[i].len;
    }
    if (total > SG_MIME_MAX_TEXT || m.ntexts > SG_MIME_MAX_PARTS || m.nheaders > SG_MIME_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < m.nattachments; i++) {
        check_str(m.attachments[i].name);
        check_str(m.attachments[i].type);
    }
    for (size_t i = 0; i < m.nheaders; i++)
        check_str(m.headers[i].value);
    check_str(m.subject);
    check_str(m.from_name);
    check_str(m.from_addr);
    check_str(m.reply_to);
    struct sg_mime ref;
    if (sg__mime_parse_reference(arena, (const char *)data, size, &ref) != rc ||
        !sg__mime_same(&m, &ref))
        abort();

    struct sg_event ev = {.type = SG_EV_MESSAGE, .raw = (const char *)data, .raw_len = size};
    struct sg_content c;
    rc = sg__content_build(arena, &ev, &c);
    if (rc == 0 || rc == SG_ETOOBIG) {
        check_utf8(c.text, c.text_len);
        check_utf8(c.norm, c.norm_len);
        check_utf8(c.subject, c.subject_len);
        if (c.norm_to_text[c.norm_len] != c.text_len)
            abort();
        for (size_t i = 0; i < c.norm_len; i++)
            if (c.norm_to_text[i] >= c.text_len || (i && c.norm_to_text[i] < c.norm_to_text[i - 1]))
                abort();
    } else if (rc != SG_ENOMEM) {
        abort();
    }
    sg__arena_reset(arena);
    return 0;
}
