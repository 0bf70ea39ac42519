/* The YAML loaders' shared pieces; see yamltext.h. */
#include "util/yamltext.h"

#include <libfyaml.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

int sg__yaml_text_check(const char *text, size_t len, char *msg, size_t size)
{
    const unsigned char *s = (const unsigned char *)text;
    int line = 1;
    bool line_start = true;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (line_start && c == '%') {
            snprintf(msg, size, "YAML directives (%%YAML, %%TAG) are not supported");
            return line;
        }
        line_start = false;
        if (c == '\n') {
            line++;
            line_start = true;
            i++;
            continue;
        }
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
            snprintf(msg, size, "control character 0x%02x in the text", c);
            return line;
        }
        size_t n = sg__utf8_seq(s + i, len - i);
        if (n == 0) {
            snprintf(msg, size, "not valid UTF-8");
            return line;
        }
        i += n;
    }
    return 0;
}

int sg__yaml_node_line(struct fy_node *n)
{
    for (int depth = 0; n && depth < 64; depth++) {
        if (fy_node_is_scalar(n) || fy_node_is_alias(n)) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
            return m ? m->line + 1 : 0;
        }
        void *it = NULL;
        if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        }
    }
    return 0;
}

static bool text_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

bool sg__yaml_is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (!fy_node_is_scalar(n) || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    return !s || len == 0 || text_is(s, len, "~") || text_is(s, len, "null") ||
           text_is(s, len, "Null") || text_is(s, len, "NULL");
}
