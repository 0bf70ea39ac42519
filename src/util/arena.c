/* Bump allocation in growing blocks; see arena.h. */
#include "util/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct sg_arena {
    struct block *head;  /* current block; older blocks follow */
    size_t total, max;
};

enum { FIRST_BLOCK = 16 * 1024 };

struct sg_arena *sg__arena_new(size_t max)
{
    struct sg_arena *a = sg__calloc(1, sizeof *a);
    if (a)
        a->max = max ? max : (size_t)64 << 20;
    return a;
}

void sg__arena_free(struct sg_arena *a)
{
    if (!a)
        return;
    for (struct block *b = a->head, *n; b; b = n) {
        n = b->next;
        sg__free(b);
    }
    sg__free(a);
}

void sg__arena_reset(struct sg_arena *a)
{
    if (!a->head)
        return;
    struct block *b = a->head;
    while (b->next) { /* keep the oldest (first, smallest) block */
        struct block *n = b->next;
        sg__free(b);
        b = n;
    }
    a->head = b;
    b->used = 0;
    a->total = b->size;
}

void *sg__arena_alloc(struct sg_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t want = b ? b->size * 2 : FIRST_BLOCK;
        if (want < size)
            want = size;
        if (a->total + want > a->max || want > SIZE_MAX - sizeof *b)
            return NULL;
        b = sg__malloc(sizeof *b + want);
        if (!b)
            return NULL;
        b->size = want;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        a->total += want;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

bool sg__arena_grow(struct sg_arena *a, void **v, size_t *cap, size_t n, size_t size,
                    size_t first, size_t max)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap > max)
        ncap = max;
    void *p = ncap > n ? sg__arena_alloc(a, ncap * size) : NULL;
    if (!p)
        return false;
    if (n)
        memcpy(p, *v, n * size);
    *v = p;
    *cap = ncap;
    return true;
}

char *sg__arena_strndup(struct sg_arena *a, const char *s, size_t n)
{
    char *p = sg__arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *sg__arena_vprintf(struct sg_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = sg__arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *sg__arena_printf(struct sg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = sg__arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
