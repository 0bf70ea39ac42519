/* The HTML pre-pass (html_prepass.c): what libxml2 would parse but html.c never reads, taken
 * out before libxml2 parses. Dropped: comment bodies ("<!--x-->" becomes "<!---->", still a
 * comment, so the text on both sides reaches html.c in the same pieces), script and style
 * bodies (html.c's cdataBlock ignores them) and every attribute that read_attrs in html.c does
 * not read, except on meta (libxml2 reads those itself). Elements, the attributes html.c reads,
 * text and entities are kept, plain text and the plain values of those attributes as
 * placeholders that html.c puts back (sg_html_runs below). */
#ifndef SG_TEXT_HTML_PREPASS_H
#define SG_TEXT_HTML_PREPASS_H

#include <stddef.h>

struct sg_arena;

/* A run of plain text that stands in the document as one placeholder character. */
struct sg_html_run {
    const char *text; /* into the document given to sg__html_prepass */
    size_t len;
};

/* The placeholders: U+F0000 + the run's index, four UTF-8 bytes starting with 0xF3 (a document
 * with that byte, or with a character reference that could reach the range, has none). */
#define SG_HTML_RUN_LEAD 0xF3
#define SG_HTML_MAX_RUNS 0xFFFE

struct sg_html_runs {
    struct sg_html_run *v;
    size_t n, cap;
};

/* Sets *out to html[0..len) with those parts taken out (in the arena) and returns its length;
 * *out is html itself, and len is returned, when nothing was taken out or when the document is
 * not split for certain the way libxml2 2.9 splits it (then libxml2 reads it unchanged).
 * Also, since libxml2's cost is mostly per character: a piece of text between two pieces of
 * markup that libxml2 hands to the characters callback whole and unchanged (printable ASCII,
 * tabs and line feeds, no '&', shorter than libxml2's 1000-byte text buffer) is replaced, from
 * its first to its last non-blank byte, by a placeholder, and so is the plain value of an
 * attribute html.c reads (libxml2 copies it byte by byte); each is listed in runs (runs->n is 0
 * when there is none) and html.c's callbacks put it back (sg__html_run_at). libxml2 decides the
 * same either way: on text, by whether a piece is blank, and what is replaced is not. */
size_t sg__html_prepass(struct sg_arena *a, const char *html, size_t len, const char **out,
                        struct sg_html_runs *runs);

/* The run whose placeholder starts s[0..n) (s[0] is SG_HTML_RUN_LEAD), or NULL. */
const struct sg_html_run *sg__html_run_at(const struct sg_html_runs *runs, const unsigned char *s,
                                          size_t n);

#endif
