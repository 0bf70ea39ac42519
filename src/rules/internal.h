/* What the rule engine's files share: the loaded rule, the ruleset, the expression AST, and the
 * literal normaliser that makes a rule's text match the normalised message text. Not for use
 * outside src/rules. */
#ifndef SG_RULES_INTERNAL_H
#define SG_RULES_INTERNAL_H

#include <hs/hs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"
#include "sendguard.h"
#include "util/strbuf.h"

#define SG_RULES_MAX_RULES 4096
#define SG_RULES_MAX_FILE ((size_t)4 << 20)
#define SG_RULES_MAX_FILES 1000
#define SG_RULES_MAX_CODE 64
#define SG_RULES_MAX_DESCRIPTION 500
#define SG_RULES_MAX_REGEX 8192        /* one regex (or one list item), as written */
#define SG_RULES_MAX_ALTERNATIVES 200  /* items of a regex list */
#define SG_RULES_MAX_WORDS 5000
#define SG_RULES_MAX_WORD 200
#define SG_RULES_MAX_EXPR 4096
#define SG_RULES_MAX_EXPR_NODES 512
#define SG_RULES_MAX_EXPR_DEPTH 48
#define SG_RULES_MAX_ERRORS 100
#define SG_RULES_MAX_BRANDS 2000
#define SG_RULES_MAX_SCORE 100.0
#define SG_RULES_QUOTE_MAX 80

enum sg__rule_kind { SG__RK_NONE, SG__RK_REGEX, SG__RK_WORDS, SG__RK_EXPR };
enum sg__rule_state { SG__RS_ENFORCE, SG__RS_MONITOR, SG__RS_OFF };

enum sg__expr_op {
    SG__EX_NUM,   /* num */
    SG__EX_IDENT, /* an identifier, resolved after every file is read into FACT or RULE */
    SG__EX_FACT,  /* ref: enum sg_rules_fact */
    SG__EX_RULE,  /* ref: rule index */
    SG__EX_NOT,   /* a */
    SG__EX_AND,   /* a, b */
    SG__EX_OR,
    SG__EX_LT,
    SG__EX_LE,
    SG__EX_GT,
    SG__EX_GE,
    SG__EX_EQ,
    SG__EX_NE,
};

struct sg__expr_node {
    uint8_t op;
    int16_t a, b;      /* child node indices */
    uint32_t ref;      /* FACT / RULE */
    uint32_t id_off, id_len; /* IDENT: the name in the rule's expr text */
    double num;
};

struct sg__rule {
    char *code, *description;
    const char *file; /* owned by the ruleset's file list */
    int line;         /* of `code:` */
    int layer;        /* 0 shipped, then one per directory (or the loaded string) */
    double score;
    uint8_t kind, state;
    unsigned channels;
    /* regex: the alternatives as written; words: the words */
    char **items;
    int *item_lines;
    size_t nitems;
    int matcher_line;
    /* expr */
    char *expr;
    struct sg__expr_node *nodes;
    int nnodes, root;
};

struct sg__brand {
    char *name;
    char **names; /* normalised (the same way as from_name) names to look for */
    size_t nnames;
    /* The first bytes of names that start with a word byte (sg__word_byte), as a 256-bit set,
     * and whether some name starts with another byte: sg__rules_brand_mismatch passes over a
     * brand none of whose names can start a word of the display name without looking at each
     * name (most brands, for most mail). */
    uint64_t firsts[4];
    bool any_first;
    char **domains; /* "paypal.com" or "paypal.*" (any registrable domain paypal.<suffix>) */
    size_t ndomains;
};

/* A byte of a word, for the brand names: ASCII letters and digits, and any byte of a non-ASCII
 * character. */
static inline bool sg__word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

struct sg_rules {
    struct sg__rule *rules;
    size_t nrules;
    uint32_t *expr_order; /* expr rules, each after every expr rule it reads */
    size_t nexpr;
    hs_database_t *db;    /* NULL when no rule has a pattern */
    size_t nexprs;        /* expressions in db; Hyperscan's id is the index */
    uint32_t *expr_rule;  /* each expression's rule */
    uint8_t *expr_som;    /* 1 when the expression reports where its match starts */
    size_t npatterns;     /* rules with expressions in db */
    bool uses_brand;      /* some expr rule reads FROM_BRAND_MISMATCH: worth computing */
    bool uses_url_brand;  /* some expr rule reads URL_ or FROM_DOMAIN_BRAND_LOOKALIKE */
    bool uses_text_chars; /* some expr rule reads text_chars: worth counting */
    uint64_t id;          /* unique per load, so a scratch knows whom it was made for */
    struct sg__brand *brands;
    size_t nbrands;
    struct sg__host_brands *host_brands; /* the brands indexed for host names (host_brand.c) */
    struct sg__brand_typos *brand_typos; /* their domains' look-alike forms (host_typo.c) */
    struct sg__norm *norm;
    void *psl;            /* psl_ctx_t, for brand domains */
    char **files;
    size_t nfiles;
};

/* ---- brands in host names (host_brand.c) --------------------------------------------------- */
struct sg__host_brands;
/* Indexes rs->brands for sg__host_uses_brand: SG_ENOMEM or 0. */
int sg__host_brands_build(struct sg_rules *rs);
void sg__host_brands_free(struct sg__host_brands *hb);
/* Whether host (whose registrable domain dom points into it) is built on a brand's name or own
 * domain although the brand does not own it: URL_BRAND_LOOKALIKE, FROM_DOMAIN_BRAND_LOOKALIKE. */
bool sg__host_uses_brand(const struct sg_rules *rs, const char *host, const char *dom);
/* ---- typos of brands' domains (host_typo.c) ----------------------------------------------- */
struct sg__brand_typos;
/* Indexes the brands' registrable domain labels and names for sg__domain_is_brand_typo (after
 * rs->psl is set): SG_ENOMEM or 0. */
int sg__brand_typos_build(struct sg_rules *rs);
void sg__brand_typos_free(struct sg__brand_typos *t);
/* Whether the registrable domain dom imitates a brand's own by one look-alike letter
 * ("dlscord.com", "stearncommunity.com") while no brand owns it. */
bool sg__domain_is_brand_typo(const struct sg_rules *rs, const char *dom);

/* Whether domain (registrable: its registrable domain, or NULL) is d or under it; d may be
 * "paypal.*", any registrable domain paypal.<public suffix>. */
bool sg__brand_domain_belongs(const char *domain, const char *registrable, const char *d);

/* ---- literal normalisation (pattern.c) ------------------------------------------------------
 * Rules are written in plain text; the message text they match is normalised (text/normalize.c:
 * NFKC case fold, look-alikes as ASCII). Each literal character of a rule is compiled to "itself
 * or its normalised form" by the same normaliser, so "ß" in a rule also matches "ss". */
struct sg__norm;
struct sg__norm *sg__norm_new(void);
void sg__norm_free(struct sg__norm *nm);
/* Appends the Hyperscan form of regex re[0..n) to out (byte-wise: see compile.c). re should
 * already be valid (checked with hs_expression_info); anything is memory-safe. Returns NULL, or
 * why the pattern cannot be expressed (a non-ASCII range). */
const char *sg__norm_regex(struct sg__norm *nm, const char *re, size_t n, struct sg_strbuf *out);
/* Whether the \b at re[at] touches a non-ASCII character, directly or through a group's
 * alternatives, a class or optional atoms (boundary.c): byte-wise, such a \b never matches
 * there, so sg__norm_regex leaves it out. */
bool sg__regex_boundary_nonascii(const char *re, size_t n, size_t at);
/* Appends word w[0..n) as a literal, with \b at each end that is a word character. */
void sg__norm_word(struct sg__norm *nm, const char *w, size_t n, struct sg_strbuf *out);
/* Appends the normalised form of s[0..n) (text/normalize.c, as message text) to out: brand
 * names are kept in this form. Load time only: nm is not thread-safe. */
void sg__norm_text(struct sg__norm *nm, const char *s, size_t n, struct sg_strbuf *out);

/* Decodes the UTF-8 character at s[0..n) into *cp; returns its length, or 1 with *cp = 0xFFFD
 * for an invalid byte. n >= 1. */
size_t sg__utf8_decode(const char *s, size_t n, uint32_t *cp);

/* ---- expressions (expr.c) -------------------------------------------------------------------- */

/* Parses r->expr into r->nodes. On a syntax error returns -1 with a message in err. */
int sg__expr_parse(struct sg__rule *r, char *err, size_t errsize);
/* Evaluates rule r's expression against fired[] (0/1 per rule) and facts. */
bool sg__expr_eval(const struct sg__rule *r, const uint8_t *fired, const double *facts);

/* ---- compile.c ----------------------------------------------------------------------------- */

/* Compiles every regex and words rule that is not off into rs->db. Problems are reported
 * through report(ud, rule index, message) and the rule left out; returns 0, or SG_ENOMEM. */
typedef void (*sg__rules_report_fn)(void *ud, size_t rule, int line, const char *msg);
int sg__rules_compile(struct sg_rules *rs, sg__rules_report_fn report, void *ud);
/* Checks one regex as written; NULL when fine (or known fine to memo, which may be NULL), else
 * a message in buf. */
struct sg__regex_memo;
const char *sg__rules_check_regex(struct sg__regex_memo *memo, const char *re, char *buf,
                                  size_t size);

/* ---- shipped.c ----------------------------------------------------------------------------- */

struct sg__rules_file {
    const char *name; /* "rules/prize.yaml" */
    const char *text;
    size_t len;
};
/* The shipped rule files built into the library, in load order, into out[0..max); returns how
 * many. */
#define SG_RULES_SHIPPED_MAX 32
size_t sg__rules_shipped(struct sg__rules_file *out, size_t max);

/* ---- scan.c -------------------------------------------------------------------------------- */

/* 1 when the From display name names a brand whose domains do not include from_addr's. The
 * display name is normalised in arena (a private one when NULL). */
bool sg__rules_brand_mismatch(const struct sg_rules *rs, struct sg_arena *arena,
                              const char *from_name, const char *from_addr);

#endif
