/* What a reader of an HTML message sees, and what it hides: visible text, links with their
 * anchor text, hidden-text counts, forms, password fields and images (libxml2's HTML parser in
 * recover mode, SAX only, never fetching anything). See docs/content.md. */
#ifndef SG_TEXT_HTML_H
#define SG_TEXT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_arena;

/* At most this many links are kept per document (the URL list has the same cap). */
#define SG_HTML_MAX_LINKS 200
/* Anchor text longer than this is cut (at a character boundary). */
#define SG_HTML_MAX_ANCHOR 512

struct sg_html_link {
    const char *href;   /* as written, entities decoded, surrounding whitespace removed */
    const char *anchor; /* the visible text inside the link; NULL for a form action */
};

struct sg_html {
    const char *text;   /* visible text, UTF-8; blocks separated by "\n", spaces collapsed */
    size_t text_len;
    struct sg_html_link *links;
    size_t nlinks;
    uint32_t hidden_chars;      /* non-space characters of hidden text (kept out of text) */
    uint32_t forms, password_inputs;
    uint32_t images, images_without_text; /* 1x1 tracking pixels are not counted */
    bool truncated;             /* text stopped at max_text, or links at the cap */
};

/* Parses html[0..len) (read as UTF-8 whatever a meta tag says) into out, allocating in a.
 * At most max_text bytes of visible text are kept. Returns 0, SG_ENOMEM, or SG_ETOOBIG when len
 * is over 64 MiB (nothing is read). Strings in out live in the arena. */
int sg__html_extract(struct sg_arena *a, const char *html, size_t len, size_t max_text,
                     struct sg_html *out);

/* sg__html_extract without the pre-pass (html_prepass.h): libxml2 reads the whole document. The
 * reference the pre-pass must agree with, for tests and fuzzing. */
int sg__html_extract_reference(struct sg_arena *a, const char *html, size_t len,
                               size_t max_text, struct sg_html *out);

#endif
