/* UTF-8 validation shared by every reader and writer of text (JSON, config, output): one
 * definition of what a valid sequence is — shortest form, no surrogates, at most U+10FFFF. */
#ifndef SG_UTIL_UTF8_H
#define SG_UTIL_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s[0..n), or 0 when it is not one (n >= 1). */
size_t sg__utf8_seq(const unsigned char *s, size_t n);

#endif
