/* Comparing two MIME readings (tests and fuzzing: the fast path against the reference). */
#ifndef SG_TEXT_MIME_COMPARE_H
#define SG_TEXT_MIME_COMPARE_H

#include <stdbool.h>

struct sg_mime;

/* True when x and y hold the same fields, texts, attachments and flags. */
bool sg__mime_same(const struct sg_mime *x, const struct sg_mime *y);

#endif
