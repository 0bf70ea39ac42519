/* A growable byte buffer with a hard maximum, and JSON writing on top of it. Used to build
 * results and dumps; a write past the maximum marks the buffer failed instead of growing. */
#ifndef SG_UTIL_STRBUF_H
#define SG_UTIL_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_strbuf {
    char *p;        /* NUL-terminated when len > 0 or after sg__sb_cstr */
    size_t len, cap, max;
    bool failed;    /* out of memory or over max: later writes are ignored */
};

/* max 0 means 16 MiB. The struct may live on the stack; free with sg__sb_release. */
void sg__sb_init(struct sg_strbuf *sb, size_t max);
void sg__sb_release(struct sg_strbuf *sb);
void sg__sb_clear(struct sg_strbuf *sb);
void sg__sb_add(struct sg_strbuf *sb, const char *s, size_t n);
void sg__sb_adds(struct sg_strbuf *sb, const char *s);
void sg__sb_addc(struct sg_strbuf *sb, char c);
void sg__sb_printf(struct sg_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string ("" when empty); valid until the next write. */
const char *sg__sb_cstr(struct sg_strbuf *sb);
/* Hands the buffer to the caller (free with sg__free) and resets sb. NULL if failed. */
char *sg__sb_steal(struct sg_strbuf *sb);

/* JSON pieces. Strings are escaped per RFC 8259; invalid UTF-8 becomes U+FFFD. */
void sg__sb_json_str(struct sg_strbuf *sb, const char *s, size_t n);
void sg__sb_json_cstr(struct sg_strbuf *sb, const char *s); /* NULL writes null */
/* Shortest round-tripping form of a finite double ("9.5", "10"); non-finite writes null. */
void sg__sb_json_num(struct sg_strbuf *sb, double v);
/* ,"key": — with a leading comma unless the previous byte is '{' or '['. */
void sg__sb_json_key(struct sg_strbuf *sb, const char *key);

#endif
