/* Robinson–Fisher combining as bogofilter does it: Robinson's f(w) per token, Fisher's inverse
 * chi-square over the tokens that deviate enough from neutral, and the indicator (1 + H − S)/2.
 * Pure functions, exposed for the tests' hand-computed values. */
#ifndef SG_BAYES_COMBINE_H
#define SG_BAYES_COMBINE_H

#include <stdbool.h>
#include <stdint.h>

#include "bayes/bayes.h"

/* Robinson's f(w) for a token seen in spam and ham messages of a class that learned spam_msgs
 * and ham_msgs: p = b/(b+g) with b = spam/spam_msgs, g = ham/ham_msgs, then
 * f = (s*x + n*p)/(s + n) with n = spam + ham. An unseen token is x. */
double sg__bayes_robinson(uint64_t spam, uint64_t ham, uint64_t spam_msgs, uint64_t ham_msgs,
                          double s, double x);

/* The upper tail of the chi-square distribution with an even df: P(X >= x2). Exact series
 * (a Poisson sum), in log space where e^(-x2/2) would underflow. */
double sg__bayes_chi2q(double x2, uint32_t df);

/* The running sums of one message: sum ln f and sum ln(1 - f) over the n tokens kept. */
struct sg_bayes_sums {
    double ln_f, ln_1f;
    uint32_t n;
};

/* A token's terms: false when |f - 0.5| <= min_dev (it does not count), else true with
 * *ln_f = ln f and *ln_1f = ln(1 - f) (f kept off 0 and 1). */
bool sg__bayes_term(double f, double min_dev, double *ln_f, double *ln_1f);

/* Adds f to the sums when |f - 0.5| > min_dev; true if it counted. */
bool sg__bayes_sums_add(struct sg_bayes_sums *sums, double f, double min_dev);

/* The indicator: with H = chi2q(-2 sum ln f, 2n) (near 1 when the tokens are spammy) and
 * S = chi2q(-2 sum ln(1 - f), 2n) (near 1 when they are hammy), (1 + H - S)/2. 0.5 for n = 0.
 * (Robinson's names, which read backwards: bogofilter's Q and P.) */
double sg__bayes_indicator(const struct sg_bayes_sums *sums);

/* The score the indicator earns under params (trained must hold): graded for confident spam,
 * ham_score for confident ham, probable_score in the band below spam_cutoff, else 0;
 * *confident says if the indicator passed a cutoff. */
/* The confident-spam cutoff of a message whose combination used `used` tokens. */
double sg__bayes_spam_cutoff(const struct sg_bayes_params *p, uint32_t used);
/* The score of an indicator against the confident-spam cutoff given (spam_cutoff, or
 * sg__bayes_spam_cutoff for a short-form message). */
double sg__bayes_score(const struct sg_bayes_params *p, double indicator, double cutoff,
                       bool *confident);

#endif
