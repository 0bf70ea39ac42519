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

/* The last len (< 8) bytes as memcpy into a zeroed uint64_t reads them. On a little-endian
 * machine that is two loads instead of a byte loop (most keys, and nearly every word the
 * classifier hashes, end in such a tail): for 4 to 7 bytes the first and the last four, which
 * overlap on bytes that land on the same bits, so or-ing them changes nothing; for 1 to 3 the
 * first, middle and last byte. */
static inline uint64_t tail_bytes(const unsigned char *p, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + len - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << (8 * (len - 4));
    }
    if (len == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[len >> 1] << (8 * (len >> 1)) |
           (uint64_t)p[len - 1] << (8 * (len - 1));
#else
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return tail;
#endif
}

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
    h ^= fmix(tail_bytes(p, len) ^ len);
    return fmix(h);
}
