/* Fuzz harness: the hot-path JSON reader, differentially against jansson. Both must accept and
 * reject the same documents (but for numbers jansson cannot represent and NUL bytes, where
 * jansson stops reading), and a top-level
 * string must decode to the same bytes. Iterating what was accepted must terminate. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static void walk(const struct sg_json_val *v, int depth)
{
    struct sg_json_val k, item;
    size_t pos = 0;
    if (v->type == SG_JSON_OBJECT)
        while (sg__json_object_next(v, &pos, &k, &item)) {
            if (k.type != SG_JSON_STRING)
                abort();
            walk(&item, depth + 1);
        }
    else if (v->type == SG_JSON_ARRAY)
        while (sg__json_array_next(v, &pos, &item))
            walk(&item, depth + 1);
    else if (v->type == SG_JSON_STRING) {
        char *out = malloc(v->len + 1);
        size_t n = sg__json_string(v, out);
        if (n > v->len || strlen(out) != n) /* NUL never decoded: \u0000 is refused */
            abort();
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_json j;
    struct sg_json_val v;
    sg__json_init(&j, (const char *)data, size, 2048);
    int mine = sg__json_value(&j, &v) == 0 && sg__json_end(&j) == 0;
    json_error_t err;
    json_t *ref = json_loadb((const char *)data, size, JSON_DECODE_ANY, &err);
    if (mine && !ref && !strstr(err.text, "too big") && !strstr(err.text, "overflow") &&
        !strstr(err.text, "maximum parsing depth"))
        abort();
    /* jansson stops reading at a NUL byte as if the input ended there; we refuse the NUL. */
    if (!mine && ref && !memchr(data, 0, size))
        abort();
    if (mine) {
        walk(&v, 0);
        if (ref && json_is_string(ref)) {
            char *out = malloc(v.len + 1);
            size_t n = sg__json_string(&v, out);
            if (n != json_string_length(ref) || memcmp(out, json_string_value(ref), n) != 0)
                abort();
            free(out);
        }
    }
    json_decref(ref);
    return 0;
}
