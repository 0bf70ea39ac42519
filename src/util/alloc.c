/* Allocation through one replaceable hook; see alloc.h. */
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"

static sg_realloc_fn hook = NULL;

void sg_set_allocator(sg_realloc_fn fn) { hook = fn; }

void *sg__realloc(void *ptr, size_t size)
{
    if (hook)
        return hook(ptr, size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

void *sg__malloc(size_t size) { return sg__realloc(NULL, size ? size : 1); }

void *sg__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = sg__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void sg__free(void *ptr)
{
    if (ptr)
        sg__realloc(ptr, 0);
}

void sg_free(void *ptr) { sg__free(ptr); }

char *sg__strndup(const char *s, size_t n)
{
    char *p = sg__malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *sg__strdup(const char *s) { return sg__strndup(s, strlen(s)); }
