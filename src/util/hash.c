/* 64-bit hashing for in-process tables: 8 bytes a step with a multiply-xorshift finaliser.
 * Keys here are short (ids, domains), so a simple word loop beats heavier designs. */
#include "util/hash.h"

#include <string.h>

static inline uint64_t fmix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

uint64_t sg__hash_u64(uint64_t k) { return fmix(k); }


uint64_t sg__hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ fmix(w)) * 0x87c37b91114253d5ULL;
        h = (h << 31) | (h >> 33);
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    h ^= fmix(tail ^ len);
    return fmix(h);
}
