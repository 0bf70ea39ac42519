/* A quick "does this text carry a link?" for trust gating. The content-analysis work replaces it
 * with full URL extraction; until then it errs on the side of seeing a link. */
#ifndef SG_TEXT_LINKS_H
#define SG_TEXT_LINKS_H

#include <stdbool.h>
#include <stddef.h>

/* True when text[0..len) has "scheme://", "www.", an href=, or a defanged "[.]" link.
 * text may be NULL. */
bool sg__text_has_link(const char *text, size_t len);

#endif
