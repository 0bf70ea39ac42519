/* The pre-parse YAML text check; see yamltext.h. */
#include "util/yamltext.h"

#include <stdbool.h>

#include "util/utf8.h"

int sg__yaml_text_check(const char *text, size_t len, const char **why, int *byte)
{
    const unsigned char *s = (const unsigned char *)text;
    int line = 1;
    bool line_start = true;
    *byte = -1;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (line_start && c == '%') {
            *why = "YAML directives (%YAML, %TAG) are not supported";
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
            *why = "control character in the text";
            *byte = (int)c;
            return line;
        }
        size_t n = sg__utf8_seq(s + i, len - i);
        if (n == 0) {
            *why = "not valid UTF-8";
            return line;
        }
        i += n;
    }
    return 0;
}
