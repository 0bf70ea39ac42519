/* The regexes Hyperscan's analysis has passed before, remembered in the compile cache's
 * directory: see regex_memo.c for why and why a wrong entry cannot let a bad rule through. */
#ifndef SG_RULES_REGEX_MEMO_H
#define SG_RULES_REGEX_MEMO_H

#include <stdbool.h>

struct sg__regex_memo;

/* The memo as saved (empty when there is none or no safe cache directory); NULL only when out
 * of memory, which callers treat as an empty memo. */
struct sg__regex_memo *sg__regex_memo_open(void);

/* Whether re passed the check before (under this Hyperscan version and these flags). */
bool sg__regex_memo_known(const struct sg__regex_memo *m, const char *re, unsigned flags);

/* Remembers that re passed the check now. */
void sg__regex_memo_add(struct sg__regex_memo *m, const char *re, unsigned flags);

/* Saves what was added (atomically; failures ignored) and frees m. NULL is allowed. */
void sg__regex_memo_close(struct sg__regex_memo *m);

#endif
