/* The HTML pre-pass (html_prepass.c): what libxml2 would parse but html.c never reads, taken
 * out before libxml2 parses. Dropped: comment bodies ("<!--x-->" becomes "<!---->", still a
 * comment, so the text on both sides reaches html.c in the same pieces), script and style
 * bodies (html.c's cdataBlock ignores them) and every attribute that read_attrs in html.c does
 * not read, except on meta (libxml2 reads those itself). Elements, the attributes html.c reads,
 * text and entities are copied as they are. */
#ifndef SG_TEXT_HTML_PREPASS_H
#define SG_TEXT_HTML_PREPASS_H

#include <stddef.h>

struct sg_arena;

/* Sets *out to html[0..len) with those parts taken out (in the arena) and returns its length;
 * *out is html itself, and len is returned, when nothing was taken out or when the document is
 * not split for certain the way libxml2 2.9 splits it (then libxml2 reads it unchanged). */
size_t sg__html_prepass(struct sg_arena *a, const char *html, size_t len, const char **out);

#endif
