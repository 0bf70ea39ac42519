/* The classifier's arithmetic: Robinson's token probability, Fisher's inverse chi-square and the
 * score of a confident verdict. See combine.h and docs/bayes.md for the formulas. */
#include "bayes/combine.h"

#include <math.h>

double sg__bayes_robinson(uint64_t spam, uint64_t ham, uint64_t spam_msgs, uint64_t ham_msgs,
                          double s, double x)
{
    double n = (double)spam + (double)ham;
    if (n <= 0)
        return x;
    /* Frequencies, not counts, so a class with more messages does not dominate. */
    double bad = spam_msgs ? (double)spam / (double)spam_msgs : 0;
    double good = ham_msgs ? (double)ham / (double)ham_msgs : 0;
    if (bad + good <= 0)
        return x;
    double p = bad / (bad + good);
    return (s * x + n * p) / (s + n);
}

double sg__bayes_chi2q(double x2, uint32_t df)
{
    if (!(x2 > 0) || df < 2)
        return 1.0;
    double m = x2 / 2;
    uint32_t k = df / 2;
    /* Q = e^-m * sum_{i<k} m^i / i!: each term is a Poisson probability, so none overflows;
     * e^-m stays a normal double below m = 700. */
    if (m < 700) {
        double term = exp(-m), sum = term;
        for (uint32_t i = 1; i < k; i++) {
            term *= m / i;
            sum += term;
        }
        return sum < 1 ? sum : 1;
    }
    /* Log space with a running maximum: log term_i = -m + i ln m - ln i!. */
    double lm = log(m), lt = -m, best = lt, acc = 1; /* acc = sum e^(lt_j - best) */
    for (uint32_t i = 1; i < k; i++) {
        lt += lm - log((double)i);
        if (lt > best) {
            acc = acc * exp(best - lt) + 1;
            best = lt;
        } else {
            acc += exp(lt - best);
        }
    }
    double q = exp(best + log(acc));
    return q < 1 ? q : 1;
}

bool sg__bayes_sums_add(struct sg_bayes_sums *sums, double f, double min_dev)
{
    if (!(fabs(f - 0.5) > min_dev))
        return false;
    /* s > 0 keeps f off 0 and 1; a configured s of 0 must not reach log(0). */
    if (f < 1e-300)
        f = 1e-300;
    if (f > 1 - 1e-16)
        f = 1 - 1e-16;
    sums->ln_f += log(f);
    sums->ln_1f += log1p(-f);
    sums->n++;
    return true;
}

double sg__bayes_indicator(const struct sg_bayes_sums *sums)
{
    if (!sums->n)
        return 0.5;
    double h = sg__bayes_chi2q(-2 * sums->ln_f, 2 * sums->n);
    double s = sg__bayes_chi2q(-2 * sums->ln_1f, 2 * sums->n);
    return (1 + h - s) / 2;
}

double sg__bayes_score(const struct sg_bayes_params *p, double indicator, bool *confident)
{
    *confident = false;
    if (indicator >= p->spam_cutoff) {
        *confident = true;
        /* Graded on -log10(1 - p): the cutoff gives min, 1 - 1e-6 (or more) gives max. */
        double lo = -log10(fmax(1 - p->spam_cutoff, 1e-300));
        double hi = 6;
        double v = -log10(fmax(1 - indicator, 1e-300));
        double t = hi > lo ? (v - lo) / (hi - lo) : 1;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        return p->spam_score_min + t * (p->spam_score_max - p->spam_score_min);
    }
    if (indicator <= p->ham_cutoff) {
        *confident = true;
        return p->ham_score;
    }
    if (p->probable_score > 0 && indicator >= p->probable_cutoff)
        return p->probable_score; /* leaning, not confident */
    return 0;
}
