/* libFuzzer driver for the IP and CIDR parsers: any bytes as a slice, and for every accepted
 * input the invariants that the rest of the engine relies on (an address is its own /128, a
 * prefix matches its own network, the canonical text re-parses to the same prefix). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"

static int same(const struct sg_cidr *a, const struct sg_cidr *b)
{
    return a->bits == b->bits && memcmp(a->addr, b->addr, 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    uint8_t ip[16];
    struct sg_cidr c, again;
    int ip_ok = sg__ip_parse(s, size, ip) == 0;
    int cidr_ok = sg__cidr_parse(s, size, &c) == 0;
    if (ip_ok && (!cidr_ok || c.bits != 128 || memcmp(c.addr, ip, 16) != 0))
        abort();
    if (!cidr_ok)
        return 0;
    if (c.bits > 128 || !sg__cidr_match(&c, c.addr))
        abort();

    char text[50];
    sg__cidr_format(&c, text, sizeof text);
    size_t n = strlen(text);
    if (n + 1 >= sizeof text)
        abort(); /* the longest canonical form, 39 + "/128", must fit with room to spare */
    /* Re-parse from an exact-size copy so a read past the end would be seen. */
    char *copy = malloc(n);
    if (!copy)
        return 0;
    memcpy(copy, text, n);
    int rc = sg__cidr_parse(copy, n, &again);
    free(copy);
    if (rc != 0 || !same(&c, &again))
        abort();
    char text2[50];
    sg__cidr_format(&again, text2, sizeof text2);
    if (strcmp(text, text2) != 0)
        abort();
    return 0;
}
