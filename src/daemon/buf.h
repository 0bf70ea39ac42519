/* A growable byte buffer with a hard maximum, for response bodies and JSON text. Appends fail
 * (and stay failed) past the maximum or when memory runs out, so callers check once at the end. */
#ifndef SG_DAEMON_BUF_H
#define SG_DAEMON_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap, max;
    bool failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
bool buf_add(struct buf *b, const void *p, size_t n);
bool buf_adds(struct buf *b, const char *s);
bool buf_addc(struct buf *b, char c);
bool buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s (n bytes) as a quoted JSON string: quotes, backslashes and control bytes escaped. */
bool buf_json_str(struct buf *b, const char *s, size_t n);
/* Hands the data (malloc'd, NUL-terminated, never NULL unless failed) to the caller and resets
 * the buffer. */
char *buf_take(struct buf *b, size_t *len);

#endif
