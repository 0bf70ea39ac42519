/* Four OSB pair tokens at once (pairs.h). sg__hash_mix is xor, add, shift and two 64-bit
 * multiplies by constants; AVX2 has no 64-bit multiply, so each is made of three 32 x 32 -> 64
 * bit ones (the high half of the product of the high halves falls outside 64 bits). The scalar
 * path is sg__bayes_tok_pair itself, and a unit test holds the two equal. */
#include "bayes/pairs.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define SG_PAIRS_AVX2 1
#include <immintrin.h>
#endif

#ifdef SG_PAIRS_AVX2

_Static_assert(SG_BAYES_PAIRS == 4, "the vector path holds the four distances in one register");

/* a * m (mod 2^64) per lane, m given as its low and high 32 bits (each in a lane's low half). */
__attribute__((target("avx2"))) static inline __m256i mul64(__m256i a, __m256i m_lo, __m256i m_hi)
{
    __m256i lo = _mm256_mul_epu32(a, m_lo);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), m_lo),
                                     _mm256_mul_epu32(a, m_hi));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

/* sg__hash_mix(h, v) per lane (util/hash.h has the scalar one). */
__attribute__((target("avx2"))) static inline __m256i mix4(__m256i h, __m256i v)
{
    const __m256i golden = _mm256_set1_epi64x((long long)0x9e3779b97f4a7c15ULL);
    const __m256i m1_lo = _mm256_set1_epi64x(0xed558ccdLL), m1_hi = _mm256_set1_epi64x(0xff51afd7LL);
    const __m256i m2_lo = _mm256_set1_epi64x(0x1a85ec53LL), m2_hi = _mm256_set1_epi64x(0xc4ceb9feLL);
    __m256i k = _mm256_xor_si256(
        h, _mm256_add_epi64(_mm256_add_epi64(v, golden), _mm256_slli_epi64(h, 6)));
    k = _mm256_xor_si256(k, _mm256_srli_epi64(k, 33));
    k = mul64(k, m1_lo, m1_hi);
    k = _mm256_xor_si256(k, _mm256_srli_epi64(k, 33));
    k = mul64(k, m2_lo, m2_hi);
    return _mm256_xor_si256(k, _mm256_srli_epi64(k, 33));
}

/* The steps of sg__bayes_tok_pair, lane d - 1 holding distance d. */
__attribute__((target("avx2"))) static void pairs_avx2(const uint64_t prev[SG_BAYES_PAIRS],
                                                       uint64_t later, bool subject,
                                                       uint64_t out[SG_BAYES_PAIRS])
{
    __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)prev);
    h = mix4(h, _mm256_set1_epi64x((long long)later));
    h = mix4(h, _mm256_set1_epi64x(subject ? SG_BTAG_SUBJECT_PAIR : SG_BTAG_PAIR));
    h = mix4(h, _mm256_set_epi64x(4, 3, 2, 1));
    /* 0 marks an empty slot in the token tables: a 0 token is 1, as nonzero() makes it. */
    __m256i zero = _mm256_cmpeq_epi64(h, _mm256_setzero_si256());
    h = _mm256_sub_epi64(h, zero); /* a lane of all ones is -1: 0 - (-1) = 1 */
    _mm256_storeu_si256((__m256i *)(void *)out, h);
}

bool sg__bayes_pairs_vector(void) { return __builtin_cpu_supports("avx2"); }

#else

bool sg__bayes_pairs_vector(void) { return false; }

#endif

void sg__bayes_tok_pairs(const uint64_t prev[SG_BAYES_PAIRS], uint64_t later, unsigned n,
                         bool subject, bool vector, uint64_t out[SG_BAYES_PAIRS])
{
#ifdef SG_PAIRS_AVX2
    if (vector) {
        pairs_avx2(prev, later, subject, out);
        return;
    }
#else
    (void)vector;
#endif
    for (unsigned d = 1; d <= n && d <= SG_BAYES_PAIRS; d++)
        out[d - 1] = sg__bayes_tok_pair(prev[d - 1], later, d, subject);
}
