/* The classifier's arithmetic: Robinson's token probability, Fisher's inverse chi-square and the
 * score of a confident verdict. See combine.h and docs/bayes.md for the formulas. */
#include "bayes/combine.h"

#include <math.h>
#include <pthread.h>

/* ln i for the chi-square series, made once: the same log() values the loop would compute, so
 * results do not move, without a log() per term. */
enum { LN_TABLE = 4096 };
static double ln_table[LN_TABLE];
static pthread_once_t ln_once = PTHREAD_ONCE_INIT;

static void make_ln_table(void)
{
    for (uint32_t i = 1; i < LN_TABLE; i++)
        ln_table[i] = log((double)i);
}

static inline double ln_int(uint32_t i) { return i < LN_TABLE ? ln_table[i] : log((double)i); }

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
        /* In blocks of 16 terms, and after each a test: past the mode (m / i < 1) the terms
         * only shrink, and one at most 2^-54 of sum is under half its ulp, so neither it nor
         * any later term can change sum: the loop may stop with the very sum it would end
         * with. (A test after every term cost more than the terms it saved.) */
        for (uint32_t i = 1; i < k;) {
            uint32_t block = k - i < 16 ? k : i + 16;
            for (; i < block; i++) {
                term *= m / i;
                sum += term;
            }
            if (i - 1 > m && term <= sum * 0x1p-54)
                break;
        }
        return sum < 1 ? sum : 1;
    }
    /* Log space with a running maximum: log term_i = -m + i ln m - ln i!. */
    pthread_once(&ln_once, make_ln_table);
    double lm = log(m), lt = -m, best = lt, acc = 1; /* acc = sum e^(lt_j - best) */
    /* Below this exponent a term (or the old sum rescaled) is under half an ulp of 1 <= acc
     * (acc <= k terms each <= 1): adding it cannot change acc, so exp() is skipped. Exact: the
     * result is bit for bit what the full loop gives. */
    double negligible = -37.5 - log((double)k + 1);
    for (uint32_t i = 1; i < k; i++) {
        lt += lm - ln_int(i);
        if (lt > best) {
            acc = best - lt < negligible ? 1 : acc * exp(best - lt) + 1;
            best = lt;
        } else if (lt - best >= -37.5) {
            acc += exp(lt - best);
        }
    }
    double q = exp(best + log(acc));
    return q < 1 ? q : 1;
}

bool sg__bayes_term(double f, double min_dev, double *ln_f, double *ln_1f)
{
    if (!(fabs(f - 0.5) > min_dev))
        return false;
    /* s > 0 keeps f off 0 and 1; a configured s of 0 must not reach log(0). */
    if (f < 1e-300)
        f = 1e-300;
    if (f > 1 - 1e-16)
        f = 1 - 1e-16;
    *ln_f = log(f);
    *ln_1f = log1p(-f);
    return true;
}

bool sg__bayes_sums_add(struct sg_bayes_sums *sums, double f, double min_dev)
{
    double a, b;
    if (!sg__bayes_term(f, min_dev, &a, &b))
        return false;
    sums->ln_f += a;
    sums->ln_1f += b;
    sums->n++;
    return true;
}

/* True when chi2q(x2, df) is certainly below e^-60 (about 2^-86). Q is P(N < df/2) for N
 * Poisson with mean m = x2/2, and for j = df/2 - 1 < m Chernoff's bound gives
 * P(N <= j) <= e^(-m) (e m / j)^j. The margin to 2^-54 (below) is 22 nats, far more than the
 * rounding error of chi2q's own sums, so what chi2q would compute is below 2^-54 as well. */
static bool chi2q_negligible(double x2, uint32_t df)
{
    double m = x2 / 2;
    uint32_t j = df / 2 - 1; /* df >= 2 here */
    if (!(m > j))
        return false;
    double bound = j ? -m + j * (1 + log(m / j)) : -m;
    return bound < -60;
}

/* A chi-square tail that cannot move (1 + H - S)/2 is not computed: that is where the
 * log-space series spends an exp() per term, on every clearly hammy or spammy message of
 * hundreds of tokens. Bit for bit the same: with 0 <= H <= 2^-54, 1 + H rounds to 1 exactly as
 * 1 + 0 does; with 0 <= S <= 2^-54 and 1 <= 1 + H <= 2, (1 + H) - S rounds back to 1 + H (S is
 * at most half the spacing of the doubles just below 1 + H). */
static double tail_or_zero(double x2, uint32_t df)
{
    return chi2q_negligible(x2, df) ? 0 : sg__bayes_chi2q(x2, df);
}

double sg__bayes_indicator(const struct sg_bayes_sums *sums)
{
    if (!sums->n)
        return 0.5;
    double h = tail_or_zero(-2 * sums->ln_f, 2 * sums->n);
    double s = tail_or_zero(-2 * sums->ln_1f, 2 * sums->n);
    return (1 + h - s) / 2;
}

double sg__bayes_spam_cutoff(const struct sg_bayes_params *p, uint32_t used)
{
    if (!(p->short_cutoff < p->spam_cutoff) || used >= p->long_tokens)
        return p->spam_cutoff;
    if (used <= p->short_tokens)
        return p->short_cutoff;
    double t = (double)(used - p->short_tokens) / (double)(p->long_tokens - p->short_tokens);
    return p->short_cutoff + t * (p->spam_cutoff - p->short_cutoff);
}

double sg__bayes_score(const struct sg_bayes_params *p, double indicator, double cutoff,
                       bool *confident)
{
    *confident = false;
    if (indicator >= cutoff) {
        *confident = true;
        /* Graded on -log10(1 - p): the cutoff gives min, 1 - 1e-6 (or more) gives max. */
        double lo = -log10(fmax(1 - cutoff, 1e-300));
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
    /* The band moves down with the cutoff, keeping its width. */
    if (p->probable_score > 0 && indicator >= p->probable_cutoff - (p->spam_cutoff - cutoff))
        return p->probable_score; /* leaning, not confident */
    return 0;
}
