/* A bump allocator for per-event memory: everything a judgement needs is freed at once when the
 * verdict is out. It has a hard maximum so one hostile event cannot grow it without bound. */
#ifndef SG_UTIL_ARENA_H
#define SG_UTIL_ARENA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct sg_arena;

/* max is the most bytes the arena may hold in all (0: 64 MiB). */
struct sg_arena *sg__arena_new(size_t max);
void sg__arena_free(struct sg_arena *a);
/* Forgets every allocation but keeps the first block for reuse. */
void sg__arena_reset(struct sg_arena *a);
/* 16-byte aligned; NULL when out of memory or over the maximum. */
void *sg__arena_alloc(struct sg_arena *a, size_t size);
/* Room for element n of the array *v (each size bytes, *cap allocated): when full, a copy of
 * twice the capacity (first when empty, at most max) replaces it. False when out of memory. */
bool sg__arena_grow(struct sg_arena *a, void **v, size_t *cap, size_t n, size_t size,
                    size_t first, size_t max);
char *sg__arena_strndup(struct sg_arena *a, const char *s, size_t n);
char *sg__arena_printf(struct sg_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sg__arena_vprintf(struct sg_arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
