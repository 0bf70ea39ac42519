/* IPv4 and IPv6 addresses and CIDR prefixes: parsing and matching. IPv4 is held as an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) so one prefix list serves both families. */
#ifndef SG_UTIL_CIDR_H
#define SG_UTIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_cidr {
    uint8_t addr[16]; /* network address, host bits zeroed */
    uint8_t bits;     /* prefix length in the IPv6 space (an IPv4 /24 is 96 + 24 = 120) */
};

/* Parses an address ("192.0.2.7", "2001:db8::1") into 16 bytes. Returns 0 or SG_EPARSE. */
int sg__ip_parse(const char *s, size_t len, uint8_t out[16]);
/* Parses "ADDR" (a host prefix) or "ADDR/N" (N 0-32 for IPv4, 0-128 for IPv6). Host bits set
 * in ADDR are cleared. Returns 0 or SG_EPARSE. */
int sg__cidr_parse(const char *s, size_t len, struct sg_cidr *out);
bool sg__cidr_match(const struct sg_cidr *c, const uint8_t ip[16]);
/* Canonical text ("192.0.2.0/24", "2001:db8::/32"); buf >= 50. */
void sg__cidr_format(const struct sg_cidr *c, char *buf, size_t size);

#endif
