/* The simple addr-spec of the fast address readers (addr_spec.h). */
#include "text/addr_spec.h"

#include <glib.h>

const bool sg__addr_atext[256] = {
    ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true, ['!'] = true,
    ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true, ['*'] = true,
    ['+'] = true, ['-'] = true, ['/'] = true, ['^'] = true, ['_'] = true, ['`'] = true,
    ['{'] = true, ['|'] = true, ['}'] = true, ['~'] = true};

static bool label_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

size_t sg__addr_spec_len(const char *v, size_t n, size_t i)
{
    size_t j = i;
    for (;;) { /* local part: atoms joined by single dots */
        size_t a = j;
        while (j < n && (sg__addr_atext[(unsigned char)v[j]] || v[j] == '=' || v[j] == '?')) {
            if (v[j] == '=' && j + 1 < n && v[j + 1] == '?')
                return 0; /* what could be an encoded word is left to GMime */
            j++;
        }
        if (j == a)
            return 0;
        if (j < n && v[j] == '.') {
            j++;
            continue;
        }
        break;
    }
    if (j >= n || v[j] != '@')
        return 0;
    j++;
    for (;;) { /* domain: labels joined by single dots */
        size_t a = j;
        while (j < n && label_byte(v[j]))
            j++;
        if (j == a || (j - a >= 4 && g_ascii_strncasecmp(v + a, "xn--", 4) == 0))
            return 0;
        if (j < n && v[j] == '.') {
            j++;
            continue;
        }
        break;
    }
    return j - i;
}
