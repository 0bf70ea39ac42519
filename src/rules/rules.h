/* The content rule engine: rules loaded from YAML files (the shipped set built into the library,
 * then local directories that override it), compiled into one Hyperscan database, and scanned
 * once per message into named hits. Rules emit codes; what a code weighs is policy (docs/rules.md). */
#ifndef SG_RULES_RULES_H
#define SG_RULES_RULES_H

/* No project includes here: the CLI includes this header by relative path (see cmd_rules.c). */
#include <stdbool.h>
#include <stddef.h>

struct sg_arena;
struct sg_content;

/* ---- facts ---------------------------------------------------------------------------------
 * The numbers an `expr:` rule can compare. Content facts are computed by the scan from the
 * struct sg_content; caller facts come from the engine (sender state, recipients). A fact may be
 * unknown (NaN): every comparison with an unknown fact is false and a bare unknown fact is
 * false, so `SENDER_AGE_HOURS < 24` does not fire for a sender whose age nobody knows. */
#define SG_RULES_FACT_MAP(X)                                                                    \
    /* name                 content? */                                                         \
    X(ATTACHMENTS, "attachments", 1)                                                            \
    X(HTML_ATTACHMENTS, "html_attachments", 1)                                                  \
    X(ARCHIVE_ATTACHMENTS, "archive_attachments", 1)                                            \
    X(PROGRAM_ATTACHMENTS, "program_attachments", 1)                                            \
    X(DISGUISED_ATTACHMENTS, "disguised_attachments", 1)                                        \
    X(MACRO_ATTACHMENTS, "macro_attachments", 1)                                                \
    X(DISK_IMAGE_ATTACHMENTS, "disk_image_attachments", 1)                                      \
    X(URLS, "urls", 1)                                                                          \
    X(RECIPIENTS, "recipients", 0)                                                              \
    X(SENDER_AGE_HOURS, "SENDER_AGE_HOURS", 0)                                                  \
    X(SENDER_POSTS, "SENDER_POSTS", 0)                                                          \
    X(FIRST_MESSAGE, "first_message", 0)                                                        \
    X(SENDER_MESSAGES, "SENDER_MESSAGES", 0)                                                    \
    X(ZERO_WIDTH, "zero_width", 1)                                                              \
    X(BIDI_CONTROLS, "bidi_controls", 1)                                                        \
    X(MIXED_SCRIPT_WORDS, "mixed_script_words", 1)                                              \
    X(HIDDEN_CHARS, "hidden_chars", 1)                                                          \
    X(FORMS, "forms", 1)                                                                        \
    X(PASSWORD_INPUTS, "password_inputs", 1)                                                    \
    X(IMAGES, "images", 1)                                                                      \
    X(IMAGES_WITHOUT_TEXT, "images_without_text", 1)                                            \
    X(TEXT_CHARS, "text_chars", 1)                                                              \
    X(URL_IP_LITERAL, "URL_IP_LITERAL", 1)                                                      \
    X(URL_SHORTENER, "URL_SHORTENER", 1)                                                        \
    X(URL_PUNYCODE, "URL_PUNYCODE", 1)                                                          \
    X(URL_CONFUSABLE, "URL_CONFUSABLE", 1)                                                      \
    X(URL_ANCHOR_MISMATCH, "URL_ANCHOR_MISMATCH", 1)                                            \
    X(URL_USERINFO, "URL_USERINFO", 1)                                                          \
    X(URL_DEFANGED, "URL_DEFANGED", 1)                                                          \
    X(URL_SCHEMELESS, "URL_SCHEMELESS", 1)                                                      \
    X(URL_ABUSED_TLD, "URL_ABUSED_TLD", 1)                                                      \
    X(URL_FREE_HOSTING, "URL_FREE_HOSTING", 1)                                                  \
    X(URL_BRAND_LOOKALIKE, "URL_BRAND_LOOKALIKE", 1)                                            \
    X(URL_EMBEDDED_DOMAIN, "URL_EMBEDDED_DOMAIN", 1)                                            \
    X(URL_ANCHOR_FOREIGN, "URL_ANCHOR_FOREIGN", 1)                                              \
    X(FROM_EMBEDDED_DOMAIN, "FROM_EMBEDDED_DOMAIN", 1)                                          \
    X(FROM_ABUSED_TLD, "FROM_ABUSED_TLD", 1)                                                    \
    X(FROM_FREEMAIL, "FROM_FREEMAIL", 1)                                                        \
    X(REPLY_TO_OTHER_DOMAIN, "REPLY_TO_OTHER_DOMAIN", 1)                                        \
    X(REPLY_TO_FREEMAIL, "REPLY_TO_FREEMAIL", 1)                                                \
    X(FROM_BRAND_DOMAIN, "FROM_BRAND_DOMAIN", 1)                                                \
    X(FROM_NAME_OTHER_ADDRESS, "FROM_NAME_OTHER_ADDRESS", 1)                                    \
    X(FROM_DOMAIN_BRAND_LOOKALIKE, "FROM_DOMAIN_BRAND_LOOKALIKE", 1)                            \
    X(URL_NEW_DOMAIN, "URL_NEW_DOMAIN", 0)                                                      \
    X(URL_TENANT_LOOKALIKE, "URL_TENANT_LOOKALIKE", 0)                                          \
    X(URL_UNFAMILIAR_DOMAIN, "URL_UNFAMILIAR_DOMAIN", 0)                                        \
    X(FROM_BRAND_MISMATCH, "FROM_BRAND_MISMATCH", 1)

enum sg_rules_fact {
#define SG__FACT_ENUM(id, name, content) SG_FACT_##id,
    SG_RULES_FACT_MAP(SG__FACT_ENUM)
#undef SG__FACT_ENUM
    SG_FACT_COUNT
};

/* The caller's facts. sg__rules_facts_init makes every fact unknown; set the ones you know.
 * Content facts set here are ignored: the scan computes them from the content. */
struct sg_rules_facts {
    double v[SG_FACT_COUNT];
};
void sg__rules_facts_init(struct sg_rules_facts *f);
/* The fact named s[0..n) (case-insensitive), or -1. */
int sg__rules_fact_parse(const char *s, size_t n);
/* The fact's name as rules write it; NULL out of range. */
const char *sg__rules_fact_name(int fact);

/* ---- loading -------------------------------------------------------------------------------- */

struct sg_rules;

/* Load flags. */
enum {
    SG_RULES_NO_BUILTIN = 1 << 0, /* leave out the shipped rules (lint a rules/ checkout alone) */
};

/* Loads a ruleset: the shipped files (built into the library) unless SG_RULES_NO_BUILTIN, then
 * every *.yaml / *.yml file directly in each of dirs[0..ndirs), in name order, one directory
 * after another. A rule whose code an earlier directory (or the shipped set) defined replaces
 * it; one that gives only `code` plus some of score/state/channels/description changes just
 * those. The ruleset is immutable and may be shared by any number of threads.
 * Returns 0 and *out (free with sg__rules_free), or SG_ECONFIG / SG_EIO / SG_ENOMEM with *out
 * NULL. When errors is not NULL it receives every problem found, one a line, each
 * "FILE:LINE: rule CODE: problem" (at most 100), or NULL on success; the caller frees it with
 * sg__free. */
int sg__rules_load(const char *const *dirs, size_t ndirs, unsigned flags, struct sg_rules **out,
                   char **errors);
/* As sg__rules_load with one rule file given as text, loaded after the shipped rules (unless
 * SG_RULES_NO_BUILTIN): the fuzz harness's and the tests' entry point. text need not be
 * NUL-terminated; name appears in errors. */
int sg__rules_load_string(const char *name, const char *text, size_t len, unsigned flags,
                          struct sg_rules **out, char **errors);
void sg__rules_free(struct sg_rules *rs); /* accepts NULL; never the sg__rules_builtin one */

/* The shipped rules alone, loaded on first use and shared by the whole process (never freed):
 * engines without local rule directories use it, so that making an engine does not cost a
 * rules compile (a few seconds). Returns 0 and a borrowed *out, or the load's error (with *out
 * NULL) — which would mean a broken build, since the shipped rules are tested. Thread-safe. */
int sg__rules_builtin(const struct sg_rules **out);

/* Rules in the ruleset, `state: off` ones included; a hits[] array this long never overflows. */
size_t sg__rules_count(const struct sg_rules *rs);
/* Facts about rule i (0 <= i < count), for listings and tests. Strings are owned by rs. */
struct sg_rule_info {
    const char *code, *description, *file;
    int line;
    double score;
    const char *kind;  /* "regex", "words" or "expr" */
    const char *state; /* "enforce", "monitor" or "off" */
    unsigned channels; /* bit (1 << enum sg_channel) per channel the rule runs on */
};
void sg__rules_info(const struct sg_rules *rs, size_t i, struct sg_rule_info *out);
/* The index of the rule with this code, or -1. */
int sg__rules_find(const struct sg_rules *rs, const char *code);

/* ---- scanning -------------------------------------------------------------------------------- */

/* Per-thread working memory for scans (Hyperscan scratch, match slots, the scan buffer). Made
 * for one ruleset; a scan with a scratch made for another ruleset grows it to fit (so a thread
 * keeps its scratch across a rules reload). NULL when out of memory. Never share one scratch
 * between threads at once. */
struct sg_rules_scratch;
struct sg_rules_scratch *sg__rules_scratch_new(const struct sg_rules *rs);
void sg__rules_scratch_free(struct sg_rules_scratch *s);

struct sg_rule_hit {
    const char *code;        /* owned by the ruleset */
    const char *description; /* owned by the ruleset */
    double score;            /* the rule's score; 0 for a monitor rule */
    bool monitor;            /* state: monitor — report, never count */
    /* The original words of the first match (regex and words rules; NULL for expr rules), at
     * most 80 bytes, NUL-terminated, in the arena. */
    const char *quote;
};

/* Scans content against rs for a message on channel (enum sg_channel; -1 runs every rule).
 * facts may be NULL (all caller facts unknown). Fills hits[0..n) with the rules that fire, in
 * ruleset order, helpers (score 0) included, and returns how many (at most n; give n =
 * sg__rules_count(rs) to see all), or SG_ENOMEM / SG_ETOOBIG (text over 16 MiB) / SG_EINVAL.
 * Quotes are allocated in arena (NULL arena: no quotes). One 5 KB message takes about 10 µs. */
int sg__rules_scan(const struct sg_rules *rs, struct sg_rules_scratch *scratch,
                   const struct sg_content *content, const struct sg_rules_facts *facts,
                   int channel, struct sg_arena *arena, struct sg_rule_hit *hits, size_t n);

/* ---- content without a message event ---------------------------------------------------------
 * A struct sg_content from a plain subject and body, normalised exactly as text/content.c does
 * (text/normalize.c), with norm_to_text. No HTML, URLs, attachments or From fields: set those
 * yourself. For the rule tests and the fuzz harness. subject and body may be NULL. Returns 0,
 * SG_ENOMEM or SG_EIO (ICU data missing). */
int sg__rules_plain_content(struct sg_arena *arena, const char *subject, size_t subject_len,
                            const char *body, size_t body_len, struct sg_content *out);

/* Whether a link's host (registrable domain dom, pointing into host) is built on name, the
 * tenant's, without being its own domain (case folded, squashed to letters and digits, 4 at
 * least): "safepay-hikerhub.net" for tenant hikerhub. URL_TENANT_LOOKALIKE counts them. */
bool sg__host_uses_name(const char *name, const char *host, const char *dom);

/* Whether the registrable domain dom is the tenant's own by that reading: its first label is
 * the squashed name (hikerhub.com, hikerhub.co.uk). */
bool sg__name_owns_domain(const char *name, const char *dom);

/* Whether a brand of the ruleset's brands: owns the registrable domain dom (one of its
 * domains, a subdomain of one, or under its "name.*"). For URL_UNFAMILIAR_DOMAIN. */
bool sg__domain_of_a_brand(const struct sg_rules *rs, const char *dom);

#endif
