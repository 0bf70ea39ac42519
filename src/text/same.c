/* Whether two MIME readings are the same, field by field: the fast path of sg__mime_parse is
 * checked against the reference reading with it (tests/unit/test_mime.c, fuzz/fuzz_mime.c). */
#include "text/mime_compare.h"

#include <string.h>

#include "text/mime.h"

static bool same_str(const char *x, const char *y)
{
    return x == y || (x && y && strcmp(x, y) == 0);
}

bool sg__mime_same(const struct sg_mime *x, const struct sg_mime *y)
{
    if (!same_str(x->subject, y->subject) || !same_str(x->from_name, y->from_name) ||
        !same_str(x->from_addr, y->from_addr) || !same_str(x->reply_to, y->reply_to) ||
        x->nheaders != y->nheaders || x->ntexts != y->ntexts ||
        x->nattachments != y->nattachments || x->broken != y->broken ||
        x->over_limit != y->over_limit)
        return false;
    for (size_t i = 0; i < x->nheaders; i++)
        if (!same_str(x->headers[i].name, y->headers[i].name) ||
            !same_str(x->headers[i].value, y->headers[i].value))
            return false;
    for (size_t i = 0; i < x->ntexts; i++) {
        const struct sg_mime_text *a = &x->texts[i], *b = &y->texts[i];
        if (a->len != b->len || memcmp(a->text, b->text, a->len) != 0 || a->html != b->html ||
            a->alt_group != b->alt_group)
            return false;
    }
    for (size_t i = 0; i < x->nattachments; i++) {
        const struct sg_text_attachment *a = &x->attachments[i], *b = &y->attachments[i];
        if (!same_str(a->name, b->name) || !same_str(a->type, b->type) || a->size != b->size)
            return false;
    }
    return true;
}
