/* A fast 64-bit hash for in-process tables. Callers that key state by it pass a seed kept
 * secret per store, so outsiders cannot aim collisions at another sender's counters. */
#ifndef SG_UTIL_HASH_H
#define SG_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t sg__hash(const void *data, size_t len, uint64_t seed);
/* A bijective finaliser of one 64-bit value (spreads sequential numbers over all bits). */
uint64_t sg__hash_u64(uint64_t k);

/* Mixes a further value into a running hash (for composite keys). Inline: the tokenizer calls
 * it three times per token. */
static inline uint64_t sg__hash_mix(uint64_t h, uint64_t v)
{
    uint64_t k = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6));
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

#endif
