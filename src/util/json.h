/* A JSON reader for hot paths (RFC 8259): it never allocates and never reads past the end.
 * Values come back as slices of the caller's buffer; strings are decoded on request into a
 * buffer the caller owns (a decoded string is never longer than its quoted form). Nesting is
 * bounded; every error has the byte offset where it was found. Knows nothing about messages. */
#ifndef SG_UTIL_JSON_H
#define SG_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sg_json_type { SG_JSON_NULL, SG_JSON_FALSE, SG_JSON_TRUE, SG_JSON_NUMBER, SG_JSON_STRING,
                    SG_JSON_ARRAY, SG_JSON_OBJECT };

/* A value: for strings, [p, p+len) is the text between the quotes (still escaped); for numbers
 * the number's text; for arrays and objects the whole value including brackets. */
struct sg_json_val {
    enum sg_json_type type;
    const char *p;
    size_t len;
    bool escaped; /* a string holding backslash escapes (decode it before use) */
};

struct sg_json {
    const char *start, *p, *end;
    int max_depth;
    const char *error;    /* static text; NULL while all is well */
    size_t error_offset;
};

void sg__json_init(struct sg_json *j, const char *text, size_t len, int max_depth);

/* Reads the next value at the current position (skipping white space), validating all of it,
 * and leaves the position after it. Returns 0, or -1 with j->error set. */
int sg__json_value(struct sg_json *j, struct sg_json_val *out);
/* After the whole document: only white space may remain. Returns 0 or -1. */
int sg__json_end(struct sg_json *j);

/* Iterates an object value already read by sg__json_value: *pos starts at 0. Returns 1 with the
 * next member's key and value, 0 when done. The object was validated, so no errors arise. */
int sg__json_object_next(const struct sg_json_val *obj, size_t *pos, struct sg_json_val *key,
                         struct sg_json_val *val);
/* Same for arrays. */
int sg__json_array_next(const struct sg_json_val *arr, size_t *pos, struct sg_json_val *val);

/* Decodes a validated string value into out (at least v->len + 1 bytes); NUL-terminates and
 * returns the decoded length. */
size_t sg__json_string(const struct sg_json_val *v, char *out);
/* Does the string value equal lit (after decoding)? */
bool sg__json_string_is(const struct sg_json_val *v, const char *lit);
/* An integer number value without fraction or exponent that fits int64. */
bool sg__json_int(const struct sg_json_val *v, int64_t *out);

#endif
