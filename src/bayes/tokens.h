/* What the classifier counts, and how each kind of token is hashed: every token is a 64-bit hash
 * under the store's seed mixed with a tag for its kind, so a word in the subject, the same word
 * in the body and a pair of words never share a count. Exposed so tests can name the tokens a
 * message must produce. */
#ifndef SG_BAYES_TOKENS_H
#define SG_BAYES_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Orthogonal sparse bigrams (CRM114/OSBF): each word pairs with each of the 4 words before it,
 * the distance part of the token, so "claim ... prize" counts whatever fills the gap. */
#define SG_BAYES_OSB_WINDOW 5
/* Longer words (base64 debris, tracking ids) are not words: they are counted as a meta token. */
#define SG_BAYES_MAX_WORD 40
/* An all-digit word (separators allowed) of at least this many digits is also counted by its
 * shape ("#11" for a phone number) and pairs by its shape, so "call 0906..." generalises over
 * the numbers a campaign rotates. */
#define SG_BAYES_NUMBER_SHAPE_MIN 5
/* URLs read from one message. */
#define SG_BAYES_MAX_URLS 100

enum sg_bayes_tag {
    SG_BTAG_WORD = 1,       /* a body word */
    SG_BTAG_SUBJECT_WORD,   /* a subject word */
    SG_BTAG_PAIR,           /* an OSB pair in the body */
    SG_BTAG_SUBJECT_PAIR,   /* an OSB pair in the subject */
    SG_BTAG_URL_DOMAIN,     /* a URL's registrable domain ("url:" + domain) */
    SG_BTAG_URL_FLAG,       /* a URL fact (enum sg_url_flag bit number) */
    SG_BTAG_HEADER,         /* a raw mail header field (enum sg_bayes_header) */
    SG_BTAG_META,           /* a fact of the message (enum sg_bayes_meta) */
};

/* Header fields of raw mail that become tokens. */
enum sg_bayes_header {
    SG_BHDR_FROM_DOMAIN = 1,
    SG_BHDR_REPLY_TO_DOMAIN,
    SG_BHDR_X_MAILER,           /* lower-case, digits as '#', first 48 bytes */
    SG_BHDR_CONTENT_TYPE,       /* type/subtype, lower-case */
    SG_BHDR_CHARSET,            /* the Content-Type charset, lower-case */
    SG_BHDR_MESSAGE_ID_DOMAIN,
};

/* Facts of a message; the token is (kind << 8) | bucket. */
enum sg_bayes_meta {
    SG_BMETA_HTML = 1,          /* bucket 1: has HTML */
    SG_BMETA_URLS,              /* bucket: 0, 1, 2 (2-4), 3 (5+) URLs */
    SG_BMETA_ATTACHMENTS,       /* bucket 1: has attachments */
    SG_BMETA_HIDDEN,            /* bucket 1: hidden text */
    SG_BMETA_INVISIBLE,         /* bucket 1: zero-width or bidi controls removed */
    SG_BMETA_IMAGES_NO_TEXT,    /* bucket 1 */
    SG_BMETA_FORMS,             /* bucket 1: forms; 2: password inputs */
    SG_BMETA_MIME_BROKEN,       /* bucket 1 */
    SG_BMETA_LENGTH,            /* bucket: floor(log2(normalised body bytes + 1)) */
    SG_BMETA_LONG_WORDS,        /* bucket 1: a word over SG_BAYES_MAX_WORD */
    SG_BMETA_REPLY_TO_DIFFERS,  /* bucket 1: Reply-To domain is not the From domain */
    SG_BMETA_URL_IP,            /* bucket 1: a URL host is an IP literal */
};

/* The hash of a word's bytes (its identity in unigrams and pairs). */
uint64_t sg__bayes_word_hash(uint64_t seed, const char *w, size_t n);
/* A single word's token: tag SG_BTAG_WORD or SG_BTAG_SUBJECT_WORD over sg__bayes_word_hash. */
uint64_t sg__bayes_tok_word(uint64_t word_hash, enum sg_bayes_tag tag);
/* The OSB pair token of (earlier, later) words `distance` (1..4) apart. */
uint64_t sg__bayes_tok_pair(uint64_t earlier, uint64_t later, unsigned distance, bool subject);
/* A URL's registrable domain (lower-case, as in struct sg_text_url). */
uint64_t sg__bayes_tok_url(uint64_t seed, const char *domain, size_t n);
/* A header field's value, already reduced as enum sg_bayes_header says. */
uint64_t sg__bayes_tok_header(uint64_t seed, enum sg_bayes_header h, const char *v, size_t n);
/* A URL flag (bit number) or a meta fact ((kind << 8) | bucket). */
uint64_t sg__bayes_tok_fact(uint64_t seed, enum sg_bayes_tag tag, uint32_t value);

#endif
