/* Comparing two readings (tests and fuzzing: a fast path against its reference). */
#ifndef SG_TEXT_SAME_H
#define SG_TEXT_SAME_H

#include <stdbool.h>

struct sg_html;
struct sg_mime;

/* True when x and y hold the same fields, texts, attachments and flags. */
bool sg__mime_same(const struct sg_mime *x, const struct sg_mime *y);

/* True when x and y hold the same text, links and counts. */
bool sg__html_same(const struct sg_html *x, const struct sg_html *y);

#endif
