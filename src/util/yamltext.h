/* What the YAML loaders (the config, the rule files) share around libfyaml: the text check every
 * file passes before libfyaml sees it — UTF-8 without control characters and without YAML
 * directives, because libfyaml 0.7.x can loop forever or read past its buffers on invalid UTF-8
 * and in its directive scanner (upstream issues #101, #175) and neither kind of file needs them
 * — and the node helpers both need for their messages. */
#ifndef SG_UTIL_YAMLTEXT_H
#define SG_UTIL_YAMLTEXT_H

#include <stdbool.h>
#include <stddef.h>

struct fy_node;

/* 0 when text[0..len) passes; else the 1-based line of the first problem, described in msg
 * ("not valid UTF-8", "control character 0x01 in the text"). */
int sg__yaml_text_check(const char *text, size_t len, char *msg, size_t size);

/* The 1-based line of a node. libfyaml 0.7 gives marks only to scalars, so a collection is
 * placed at its first scalar (a bounded descent); 0 when there is none. */
int sg__yaml_node_line(struct fy_node *n);
/* Absent, empty, or a plain ~ / null / Null / NULL. */
bool sg__yaml_is_null(struct fy_node *n);

#endif
