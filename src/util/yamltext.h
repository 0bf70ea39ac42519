/* The text check every YAML file passes before libfyaml sees it: UTF-8 without control
 * characters and without YAML directives. libfyaml 0.7.x can loop forever or read past its
 * buffers on invalid UTF-8 and in its directive scanner (upstream issues #101, #175), and
 * neither the config nor the rule files need them. */
#ifndef SG_UTIL_YAMLTEXT_H
#define SG_UTIL_YAMLTEXT_H

#include <stddef.h>

/* 0 when text[0..len) passes; else the 1-based line of the first problem, with *why a static
 * sentence ("not valid UTF-8") and *byte the offending byte for a control character (-1 else). */
int sg__yaml_text_check(const char *text, size_t len, const char **why, int *byte);

#endif
