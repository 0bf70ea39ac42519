/* The simple addr-spec both fast address readers accept (mail_event.c for the delivery
 * fields, mime.c for From and Reply-To): what they read without GMime, and leave to GMime
 * otherwise. */
#ifndef SG_TEXT_ADDR_SPEC_H
#define SG_TEXT_ADDR_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5322 atext without '=' and '?', so that no encoded word can start in it. */
extern const bool sg__addr_atext[256];

/* The length of the addr-spec at v[i..n): a dot-atom local part ('=' and '?' of bounce
 * addresses included, "=?" not), '@' and a domain of labels of letters, digits and hyphens
 * joined by single dots, none of them punycode; 0 when there is no such addr-spec. */
size_t sg__addr_spec_len(const char *v, size_t n, size_t i);

#endif
