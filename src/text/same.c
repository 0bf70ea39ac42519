/* Whether two readings are the same, field by field: the fast paths (sg__mime_parse's, the HTML
 * pre-pass) are checked against their reference readings with these (the unit tests of mime.c
 * and html.c, fuzz/fuzz_mime.c, fuzz/fuzz_html.c). */
#include "text/same.h"

#include <string.h>

#include "text/html.h"
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

bool sg__html_same(const struct sg_html *x, const struct sg_html *y)
{
    if (x->text_len != y->text_len || memcmp(x->text, y->text, x->text_len) != 0 ||
        x->nlinks != y->nlinks || x->hidden_chars != y->hidden_chars || x->forms != y->forms ||
        x->password_inputs != y->password_inputs || x->images != y->images ||
        x->images_without_text != y->images_without_text || x->truncated != y->truncated)
        return false;
    for (size_t i = 0; i < x->nlinks; i++)
        if (!same_str(x->links[i].href, y->links[i].href) ||
            !same_str(x->links[i].anchor, y->links[i].anchor))
            return false;
    return true;
}
