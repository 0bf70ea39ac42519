/* The library's one allocation hook (sg_set_allocator) and the helpers built on it.
 * Library code never calls malloc directly, so a host can account for or cap its memory. */
#ifndef SG_UTIL_ALLOC_H
#define SG_UTIL_ALLOC_H

#include <stddef.h>

void *sg__realloc(void *ptr, size_t size);
void *sg__malloc(size_t size);
void *sg__calloc(size_t n, size_t size); /* zeroed; NULL on overflow */
void sg__free(void *ptr);
char *sg__strdup(const char *s);
char *sg__strndup(const char *s, size_t n);

#endif
