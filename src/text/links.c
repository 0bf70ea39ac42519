/* Link presence for trust gating; see links.h. Case-insensitive, one pass, no allocation. */
#include "text/links.h"

#include <ctype.h>
#include <string.h>

static bool at_ci(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)p[i]) != word[i])
            return false;
    return true;
}

bool sg__text_has_link(const char *text, size_t len)
{
    if (!text)
        return false;
    const char *end = text + len;
    for (const char *p = text; p < end; p++) {
        switch (*p) {
        case ':':
            /* "http://", "hxxps://", "ftp://": letters before "://" */
            if (at_ci(p, end, "://") && p > text && isalpha((unsigned char)p[-1]))
                return true;
            break;
        case 'w':
        case 'W':
            if (at_ci(p, end, "www.") && (p == text || !isalnum((unsigned char)p[-1])))
                return true;
            break;
        case 'h':
        case 'H':
            if (at_ci(p, end, "href"))
                return true;
            break;
        case '[':
            if (at_ci(p, end, "[.]"))
                return true;
            break;
        }
    }
    return false;
}
