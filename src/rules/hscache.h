/* hs_compile_multi (HS_MODE_BLOCK) with an on-disk cache of the compiled database: see
 * hscache.c for where it lives and why a bad cache can only cost a compile. */
#ifndef SG_RULES_HSCACHE_H
#define SG_RULES_HSCACHE_H

#include <hs.h>
#include <stdbool.h>
#include <stddef.h>

/* The cache directory into out, created 0700 if missing; false when there is no safe one. */
bool sg__hs_cache_dir(char *out, size_t size);

hs_error_t sg__hs_compile_cached(const char *const *texts, const unsigned *flags,
                                 const unsigned *ids, unsigned n, hs_database_t **db,
                                 hs_compile_error_t **cerr);

#endif
