/* A fast 64-bit hash for in-process tables. Callers that key state by it pass a seed kept
 * secret per store, so outsiders cannot aim collisions at another sender's counters. */
#ifndef SG_UTIL_HASH_H
#define SG_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t sg__hash(const void *data, size_t len, uint64_t seed);
/* A bijective finaliser of one 64-bit value (spreads sequential numbers over all bits). */
uint64_t sg__hash_u64(uint64_t k);
/* Mixes a further value into a running hash (for composite keys). */
uint64_t sg__hash_mix(uint64_t h, uint64_t v);

#endif
