/* A small struct sg_content from a plain subject and body, normalised by text/normalize.c the
 * way content.c does it: for the rule tests, the fuzz harness and tools that have text but no
 * message event. URLs, attachments, HTML facts and the From fields are left for the caller. */
#include <string.h>

#include "rules/internal.h"
#include "text/content.h"
#include "text/normalize.h"
#include "util/arena.h"

int sg__rules_plain_content(struct sg_arena *arena, const char *subject, size_t subject_len,
                            const char *body, size_t body_len, struct sg_content *c)
{
    memset(c, 0, sizeof *c);
    if (!subject)
        subject_len = 0;
    if (!body)
        body_len = 0;
    c->subject = sg__arena_strndup(arena, subject ? subject : "", subject_len);
    c->text = sg__arena_strndup(arena, body ? body : "", body_len);
    if (!c->subject || !c->text)
        return SG_ENOMEM;
    c->subject_len = subject_len;
    c->text_len = body_len;
    struct sg_norm ns, nb;
    int rc = sg__normalize(arena, c->subject, subject_len, false, &ns);
    if (!rc)
        rc = sg__normalize(arena, c->text, body_len, true, &nb);
    if (rc)
        return rc;
    c->norm_subject = ns.s;
    c->norm_subject_len = ns.len;
    c->norm = nb.s;
    c->norm_len = nb.len;
    c->norm_to_text = nb.map;
    c->zero_width = ns.zero_width + nb.zero_width;
    c->bidi_controls = ns.bidi_controls + nb.bidi_controls;
    c->mixed_script_words = ns.mixed_script_words + nb.mixed_script_words;
    return 0;
}
