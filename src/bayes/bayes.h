/* The Bayes classifier the engine calls: token counts per class (a global class and optional
 * per-tenant classes) held in memory for scanning and written back to the store, and
 * Robinson–Fisher chi-square combining as in bogofilter. Scanning never touches SQLite; classify
 * may run in many threads while learn runs now and then (a writer-preferring rwlock). */
#ifndef SG_BAYES_BAYES_H
#define SG_BAYES_BAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_arena;
struct sg_content;
struct sg_store;

/* ---- settings: constants for the defaults, and a struct the config can fill ---- */

/* Robinson's f(w) = (s*x + n*p(w)) / (s + n): s is how much weight the prior x keeps against
 * n observations of the token. */
#define SG_BAYES_DEFAULT_ROBS 1.0
#define SG_BAYES_DEFAULT_ROBX 0.5
/* Tokens with |f(w) - 0.5| <= min_dev are left out of the combination (near-neutral noise). */
#define SG_BAYES_DEFAULT_MIN_DEV 0.1
/* A class speaks only once it has seen this many messages of each class. */
#define SG_BAYES_DEFAULT_MIN_SPAM 200
#define SG_BAYES_DEFAULT_MIN_HAM 200
/* Confident spam at or above spam_cutoff; confident ham at or below ham_cutoff. The indicator
 * is the mean of the all-token and the word-only readings (model.c), which is calmer than either
 * alone, so 0.9 is as safe as 0.99 was for the pairs' reading (docs/bayes.md). */
#define SG_BAYES_DEFAULT_SPAM_CUTOFF 0.9
/* Short messages of the short-form channels (every channel but email: SMS, private messages,
 * posts, comments, notifications) are confident at a lower cutoff: Fisher's combination of a few
 * dozen tokens cannot become as extreme as that of hundreds, so the same evidence per token reads
 * nearer 0.5. The cutoff is short_cutoff up to short_tokens tokens used, spam_cutoff from
 * long_tokens on, and moves linearly between. Chosen by 4-fold cross-validation inside TRAIN
 * (bench/crossval.py, docs/bayes.md): on SMS +4.0 points of spam for 3 more ham of 3,610. Not for
 * email: there a short message is unusual, and a model learned from long mail reads it from a few
 * tokens out of their context (on short modern transactional ham it doubled the holds). */
#define SG_BAYES_DEFAULT_SHORT_CUTOFF 0.7
#define SG_BAYES_DEFAULT_SHORT_TOKENS 50
#define SG_BAYES_DEFAULT_LONG_TOKENS 200
#define SG_BAYES_DEFAULT_HAM_CUTOFF 0.01
/* The score of confident spam grows from min (at the cutoff) to max (at 1 - 1e-6) with
 * -log10(1 - p), so a certain 0.999999 weighs more than a borderline 0.9. Confident spam alone
 * reaches the default hold threshold (5); certain spam with one lure rule reaches reject (10)
 * only together with other evidence. */
#define SG_BAYES_DEFAULT_SPAM_SCORE_MIN 5.0
#define SG_BAYES_DEFAULT_SPAM_SCORE_MAX 7.0
/* Between probable_cutoff and spam_cutoff (both lowered together for short messages, so the band
 * keeps its width) the classifier leans to spam without being sure: it
 * adds probable_score, below hold (5) on its own, so a lure rule or a link trick next to it
 * holds the message while a merely spam-like newsletter passes. 0 turns the band off. */
#define SG_BAYES_DEFAULT_PROBABLE_CUTOFF 0.7
#define SG_BAYES_DEFAULT_PROBABLE_SCORE 3.5
/* Confident ham subtracts nothing by default: a negative score is what an attacker padding a
 * lure with hammy words would buy. A config may set e.g. -1. */
#define SG_BAYES_DEFAULT_HAM_SCORE 0.0
/* Distinct tokens read from one message (the rest are ignored). */
#define SG_BAYES_DEFAULT_MAX_TOKENS 3000
/* Distinct tokens the model keeps over all classes: new tokens are not learned beyond it (counts
 * of known ones still move). The hard maximum that keeps a flood of random text from growing
 * memory forever: a table slot is 16 bytes and tables are kept at most 3/4 full in powers of
 * two, so 8M tokens cost at most 256 MiB (the SpamAssassin corpus, 4.5k messages, makes 1.7M
 * tokens in a 64 MiB table). */
#define SG_BAYES_DEFAULT_MAX_MODEL_TOKENS (8u << 20)

struct sg_bayes_params {
    double robs, robx, min_dev;
    uint32_t min_spam, min_ham;
    double spam_cutoff, ham_cutoff;
    double short_cutoff;                    /* spam_cutoff of short messages (see above) */
    uint32_t short_tokens, long_tokens;
    double spam_score_min, spam_score_max, ham_score;
    double probable_cutoff, probable_score;  /* the band below spam_cutoff; score 0: off */
    uint32_t max_tokens;        /* per message, at least 1 */
    uint32_t max_model_tokens;  /* per model */
};

/* Fills *p with the SG_BAYES_DEFAULT_* values. */
void sg__bayes_params_default(struct sg_bayes_params *p);

/* ---- the model ---- */

enum sg_bayes_class { SG_BAYES_HAM = 0, SG_BAYES_SPAM = 1 };

/* The class name used for the global scope in the store and in stats. */
#define SG_BAYES_GLOBAL "*"

struct sg_bayes;

/* Opens the model: loads every class's counts from store (store NULL: an empty memory-only
 * model, for tests). Tokens are hashed under the store's secret seed (0 without a store), so
 * counts stay valid across restarts and outsiders cannot aim collisions. params NULL: the
 * defaults; *params is copied. The store is borrowed and must outlive the model. Free with
 * sg__bayes_free, which flushes pending counts (best effort: call sg__bayes_flush first to see
 * errors). On failure *out is NULL and the store's errmsg says why (SG_ESTORE). */
int sg__bayes_open(struct sg_store *store, const struct sg_bayes_params *params,
                   struct sg_bayes **out);
void sg__bayes_free(struct sg_bayes *b);

/* Replaces the thresholds and scores (config reload). Counts are kept. */
void sg__bayes_set_params(struct sg_bayes *b, const struct sg_bayes_params *params);
void sg__bayes_get_params(struct sg_bayes *b, struct sg_bayes_params *out);

/* The seed tokens are hashed with (tests compute expected tokens with it). */
uint64_t sg__bayes_seed(const struct sg_bayes *b);

/* ---- tokens ---- */

/* A message's distinct token hashes, in first-seen order. v lives in the arena given to
 * sg__bayes_tokenize. */
struct sg_bayes_tokens {
    uint64_t *v;
    uint8_t *pair;     /* pair[i] != 0: v[i] is an OSB pair (NULL: none is) */
    uint32_t n;
    bool truncated;    /* the message had more than max_tokens distinct tokens */
    bool short_form;   /* from sg_content: the length-aware cutoff applies (bayes.h) */
};

/* Tokenizes c (see tokens.h for what becomes a token) into *out, allocating in arena (about
 * 8 * max_tokens * 4 bytes). max_tokens 0: SG_BAYES_DEFAULT_MAX_TOKENS. SG_ENOMEM when the
 * arena is full. */
int sg__bayes_tokenize(struct sg_arena *arena, uint64_t seed, const struct sg_content *c,
                       uint32_t max_tokens, struct sg_bayes_tokens *out);

/* ---- learning ---- */

enum sg_bayes_learn_flags {
    /* With a tenant: count the message in the global class as well (what POST /v1/learn does,
     * so every tenant's moderation improves the shared model). */
    SG_BAYES_ALSO_GLOBAL = 1 << 0,
};

/* Counts the message's tokens in class cls of the tenant's class (tenant NULL or "*": the
 * global class). Each distinct token counts once per message. In memory at once; written to
 * the store by sg__bayes_flush. arena: scratch for the tokens (NULL: a private one). */
int sg__bayes_learn(struct sg_bayes *b, struct sg_arena *arena, const char *tenant,
                    const struct sg_content *c, enum sg_bayes_class cls, unsigned flags);
/* Takes a learned message back (a moderator's correction: unlearn the old class, learn the
 * new). Counts never go below zero. */
int sg__bayes_unlearn(struct sg_bayes *b, struct sg_arena *arena, const char *tenant,
                      const struct sg_content *c, enum sg_bayes_class cls, unsigned flags);
/* The same on tokens already made (the engine tokenizes once to classify and to learn). */
int sg__bayes_learn_tokens(struct sg_bayes *b, const char *tenant,
                           const struct sg_bayes_tokens *t, enum sg_bayes_class cls,
                           unsigned flags);
int sg__bayes_unlearn_tokens(struct sg_bayes *b, const char *tenant,
                             const struct sg_bayes_tokens *t, enum sg_bayes_class cls,
                             unsigned flags);

/* Writes the counts learned since the last flush to the store as increments (so two processes
 * learning into one store add up instead of overwriting each other), deleting tokens whose
 * counts reached zero. Classify is never blocked by the SQLite work. No-op without a store.
 * On failure the increments are kept for the next flush. */
int sg__bayes_flush(struct sg_bayes *b);
/* Flushes, then re-reads every class from the store (after `sendguard train` ran in another
 * process). The old counts serve classify until the new ones are in place. */
int sg__bayes_reload(struct sg_bayes *b);
/* Flushes, then stores a fresh snapshot of every class whose snapshot is missing or stale
 * (read from its rows), so that the next open reads one blob per class instead of every row
 * (docs/bayes.md). Open and reload do the same for the classes they had to read from rows;
 * this is for a process that changed the model and will not read it again (`sendguard
 * train`). The model in memory is not touched. */
int sg__bayes_write_snapshots(struct sg_bayes *b);

/* ---- classifying ---- */

struct sg_bayes_result {
    double probability;    /* spamicity: Robinson–Fisher indicator in [0, 1]; 0.5 untrained */
    uint32_t tokens;       /* distinct tokens in the message */
    uint32_t tokens_used;  /* tokens that counted (known, and beyond min_dev) */
    bool trained;          /* the class used has min_spam and min_ham messages */
    bool tenant_class;     /* the tenant's own class was used (else the global one) */
    bool confident;        /* trained, and probability >= cutoff or <= ham_cutoff */
    double cutoff;         /* the spam cutoff for this message's length (sg__bayes_spam_cutoff) */
    double score;          /* what the verdict gets: 0 unless confident spam or probable */
    bool probable;         /* trained, probable_cutoff <= probability < spam_cutoff */
    double p_all, p_words; /* the two readings probability is the mean of (docs/bayes.md) */
};

/* Judges the message against the tenant's class when that has enough training, else the
 * global class (tenant NULL: the global class). Takes only a read lock; never touches SQLite.
 * arena: scratch for the tokens (NULL: a private one). */
int sg__bayes_classify(struct sg_bayes *b, struct sg_arena *arena, const char *tenant,
                       const struct sg_content *c, struct sg_bayes_result *out);
int sg__bayes_classify_tokens(struct sg_bayes *b, const char *tenant,
                              const struct sg_bayes_tokens *t, struct sg_bayes_result *out);

/* ---- stats ---- */

struct sg_bayes_stats {
    uint64_t spam_msgs, ham_msgs;  /* messages learned in the class */
    uint64_t tokens;               /* distinct tokens in the class */
    uint64_t model_tokens;         /* distinct tokens over every class */
    uint32_t classes;              /* the global class and every tenant's */
    bool full;                     /* max_model_tokens reached: new tokens are not learned */
    bool trained;                  /* the class has min_spam and min_ham messages */
    /* How the last open or reload read the classes: from a current snapshot, or from the
     * token rows (a missing, stale or damaged snapshot). */
    uint32_t from_snapshot, from_rows;
};

/* Counts of the tenant's class (tenant NULL or "*": the global class). An unknown tenant gives
 * zeros and SG_ENOTFOUND. */
int sg__bayes_stats(struct sg_bayes *b, const char *tenant, struct sg_bayes_stats *out);

#endif
