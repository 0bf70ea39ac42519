/* The OSB pair tokens of one word with each of the words before it, computed together: the
 * tokenizer's costliest arithmetic (three hash mixes a pair, four pairs a word), so on x86-64
 * with AVX2 the four pairs go through the mixes side by side. The tokens are exactly
 * sg__bayes_tok_pair's. */
#ifndef SG_BAYES_PAIRS_H
#define SG_BAYES_PAIRS_H

#include <stdbool.h>
#include <stdint.h>

#include "bayes/tokens.h"

#define SG_BAYES_PAIRS (SG_BAYES_OSB_WINDOW - 1)

/* Whether sg__bayes_tok_pairs may take the vector path on this machine (asked once per
 * message, so the answer is not looked up per word). */
bool sg__bayes_pairs_vector(void);

/* out[d - 1] = sg__bayes_tok_pair(prev[d - 1], later, d, subject) for d = 1 .. n (n at most
 * SG_BAYES_PAIRS); with vector (from sg__bayes_pairs_vector) all four are computed, whatever
 * prev holds past n. */
void sg__bayes_tok_pairs(const uint64_t prev[SG_BAYES_PAIRS], uint64_t later, unsigned n,
                         bool subject, bool vector, uint64_t out[SG_BAYES_PAIRS]);

#endif
