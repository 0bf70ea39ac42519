/* Where a \b of a rule's regex sits next to a non-ASCII letter. The rules are compiled byte-wise
 * (compile.c), so \b is ASCII and a UTF-8 letter is no word character to it: "\béchec" or
 * "(?:payé|paid)\b" could never match the accented word. pattern.c leaves such a \b out; this
 * decides, looking through groups, alternatives, classes and optional atoms, so that
 * "\b(?:send|überweisen)" and "impayée?s?\b" are seen too. */
#include "rules/internal.h"

#include <stdbool.h>
#include <stddef.h>

/* The index just past the atom that starts at i (a literal, an escape, a class or a group). */
static size_t atom_end(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return n;
    if (s[i] == '\\')
        return i + 2 <= n ? i + 2 : n;
    if (s[i] == '[') {
        size_t j = i + 1;
        if (j < n && s[j] == '^')
            j++;
        if (j < n && s[j] == ']')
            j++;
        for (; j < n && s[j] != ']'; j++)
            if (s[j] == '\\')
                j++;
        return j < n ? j + 1 : n;
    }
    if (s[i] == '(') {
        int depth = 0;
        for (size_t j = i; j < n; j++) {
            if (s[j] == '\\') {
                j++;
            } else if (s[j] == '[') {
                j = atom_end(s, n, j) - 1;
            } else if (s[j] == '(') {
                depth++;
            } else if (s[j] == ')' && --depth == 0) {
                return j + 1;
            }
        }
        return n;
    }
    if ((unsigned char)s[i] >= 0x80) { /* one UTF-8 character */
        size_t j = i + 1;
        while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
            j++;
        return j;
    }
    return i + 1;
}

static bool class_has_nonascii(const char *s, size_t from, size_t to)
{
    for (size_t j = from; j < to; j++)
        if ((unsigned char)s[j] >= 0x80)
            return true;
    return false;
}

/* The quantifier at s[i], if any: its length, and whether it allows zero repetitions. */
static size_t quantifier(const char *s, size_t n, size_t i, bool *optional)
{
    *optional = false;
    if (i >= n)
        return 0;
    if (s[i] == '?' || s[i] == '*' || s[i] == '+') {
        *optional = s[i] != '+';
        size_t len = 1;
        if (i + 1 < n && (s[i + 1] == '?' || s[i + 1] == '+'))
            len++; /* lazy or possessive */
        return len;
    }
    if (s[i] == '{') {
        size_t j = i + 1;
        *optional = j < n && (s[j] == '0' || s[j] == ',');
        while (j < n && s[j] != '}')
            j++;
        return j < n ? j + 1 - i : 0;
    }
    return 0;
}

static bool seq_may_start_nonascii(const char *s, size_t from, size_t to);
static bool seq_may_end_nonascii(const char *s, size_t from, size_t to);

/* Calls one of the two sequence tests on each top-level alternative of the group s[from..to)
 * (its parentheses included). */
static bool group_alternatives(const char *s, size_t from, size_t to, bool at_start)
{
    size_t i = from + 1, end = to - 1;
    if (i + 1 < end && s[i] == '?' && s[i + 1] == ':')
        i += 2;
    else if (i < end && s[i] == '?')
        return false; /* another group kind: leave it alone */
    size_t alt = i;
    while (i <= end) {
        if (i == end || s[i] == '|') {
            if (at_start ? seq_may_start_nonascii(s, alt, i) : seq_may_end_nonascii(s, alt, i))
                return true;
            alt = i + 1;
            i++;
            continue;
        }
        i = atom_end(s, end, i);
    }
    return false;
}

/* Does the atom s[from..to) start (or end) with a non-ASCII character, or can it? */
static bool atom_nonascii(const char *s, size_t from, size_t to, bool at_start)
{
    if ((unsigned char)s[from] >= 0x80)
        return true;
    if (s[from] == '[')
        return class_has_nonascii(s, from, to);
    if (s[from] == '(')
        return group_alternatives(s, from, to, at_start);
    return false;
}

static bool seq_may_start_nonascii(const char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        size_t e = atom_end(s, to, i);
        if (s[i] == '\\' && i + 1 < to && s[i + 1] == 'b')
            return false; /* another boundary decides */
        if (s[i] == '^' || s[i] == '$')
            return false;
        bool optional;
        size_t q = quantifier(s, to, e, &optional);
        if (atom_nonascii(s, i, e, true))
            return true;
        if (!optional)
            return false;
        i = e + q;
    }
    return false;
}

static bool seq_may_end_nonascii(const char *s, size_t from, size_t to)
{
    /* Atoms are found left to right; the last ones decide, through any optional ones. */
    size_t starts[256], ends[256];
    bool opt[256];
    size_t k = 0;
    for (size_t i = from; i < to && k < 256;) {
        size_t e = atom_end(s, to, i);
        bool optional;
        size_t q = quantifier(s, to, e, &optional);
        starts[k] = i;
        ends[k] = e;
        opt[k++] = optional;
        i = e + q;
    }
    while (k--) {
        if (s[starts[k]] == '\\' && ends[k] == starts[k] + 2 && s[starts[k] + 1] == 'b')
            return false;
        if (atom_nonascii(s, starts[k], ends[k], false))
            return true;
        if (!opt[k])
            return false;
    }
    return false;
}

bool sg__regex_boundary_nonascii(const char *re, size_t n, size_t at)
{
    if (at + 1 >= n || re[at] != '\\' || re[at + 1] != 'b')
        return false;
    if (seq_may_start_nonascii(re, at + 2, n))
        return true;
    /* What precedes the \b: the atoms of the sequence it ends, from the nearest unmatched "(" or
     * top-level "|" on. */
    size_t from = 0;
    for (size_t i = 0; i < at;) {
        size_t e = atom_end(re, n, i);
        if (re[i] == '(' && e > at) { /* the \b is inside this group */
            from = i + 1;
            if (from + 1 < at && re[from] == '?' && re[from + 1] == ':')
                from += 2;
            i = from;
            continue;
        }
        if (re[i] == '|')
            from = i + 1;
        i = e;
    }
    return seq_may_end_nonascii(re, from, at);
}
