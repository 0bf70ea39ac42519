/* Unicode normalisation of message text for rules and the classifier (ICU): NFKC, case folding,
 * invisible and bidi controls removed and counted, non-ASCII look-alikes replaced by their ASCII
 * confusable prototype (TR39), whitespace collapsed. See docs/content.md for the exact rules. */
#ifndef SG_TEXT_NORMALIZE_H
#define SG_TEXT_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_arena;

struct sg_norm {
    char *s;          /* NUL-terminated, in the arena */
    size_t len;
    uint32_t *map;    /* len + 1 entries: byte offset in the input of the character that produced
                         s[i]; map[len] is the input length. NULL unless asked for. */
    uint32_t zero_width, bidi_controls;
    uint32_t mixed_script_words; /* words mixing ASCII letters with Cyrillic or Greek look-alikes */
};

/* Opens the ICU objects once (thread-safe, idempotent). 0 or SG_EIO when ICU's data is missing. */
int sg__unicode_init(void);

/* Normalises text[0..len) (UTF-8; invalid bytes read as U+FFFD) into out, allocating in a.
 * len must be below 4 GiB. Returns 0, SG_ENOMEM (arena full), SG_EIO (ICU unavailable). */
int sg__normalize(struct sg_arena *a, const char *text, size_t len, bool want_map,
                  struct sg_norm *out);

/* Copies s[0..len) into the arena as valid UTF-8: each invalid byte becomes U+FFFD and NUL
 * becomes a space. *out_len receives the length (the copy is NUL-terminated). NULL when full. */
char *sg__utf8_clean(struct sg_arena *a, const char *s, size_t len, size_t *out_len);

/* True when s[0..len) is valid UTF-8 without NUL bytes (what sg__utf8_clean would not change). */
bool sg__utf8_is_clean(const char *s, size_t len);

/* True when the UTF-8 host label (Unicode form) is a spoof: it mixes scripts beyond what one
 * language uses (TR39 "highly restrictive"), or it is not ASCII but its confusable skeleton is,
 * i.e. it imitates an ASCII label (Cyrillic "раураl" for "paypal"). */
bool sg__label_confusable(const char *label, size_t len);

#endif
