/* Reading a raw RFC 822 message with GMime 3: the decoded text parts (any charset and transfer
 * encoding, as UTF-8), attachments with their decoded sizes, the sender headers, and whether the
 * structure was broken. Broken input is read as far as it goes. See docs/content.md. */
#ifndef SG_TEXT_MIME_H
#define SG_TEXT_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "text/content.h"

struct sg_arena;

/* Limits: decoded text of all text parts together, MIME objects visited, nesting depth. */
#define SG_MIME_MAX_TEXT (1u << 20)
#define SG_MIME_MAX_PARTS 200
#define SG_MIME_MAX_DEPTH 10
#define SG_MIME_MAX_HEADERS 32
#define SG_MIME_MAX_HEADER_VALUE 4096

struct sg_mime_text {
    const char *text;  /* UTF-8 (invalid sequences replaced), NUL-terminated */
    size_t len;
    bool html;         /* text/html (else text/plain) */
    int alt_group;     /* the multipart/alternative it is an alternative of; -1 if none */
};

struct sg_mime {
    const char *subject;                 /* decoded, UTF-8; NULL when absent */
    const char *from_name, *from_addr, *reply_to;
    struct sg_text_header *headers;
    size_t nheaders;
    struct sg_mime_text *texts;          /* in message order */
    size_t ntexts;
    struct sg_text_attachment *attachments;
    size_t nattachments;
    bool broken;                         /* needed repair: see docs/content.md */
    bool over_limit;                     /* text, parts or depth limit hit: the rest was skipped */
};

/* Parses raw[0..len) into out, allocating in a. Returns 0 (also for broken input: see
 * out->broken), SG_ETOOBIG when a limit was hit (out holds what fitted), SG_ENOMEM. */
/* Initialises GMime once per process (every GMime user here calls it first). */
void sg__mime_init(void);

int sg__mime_parse(struct sg_arena *a, const char *raw, size_t len, struct sg_mime *out);

/* sg__mime_parse as GMime's whole-message parse reads it, without the fast path (mime.c says
 * when that is taken): the reference the fast path must agree with, for tests and fuzzing. */
int sg__mime_parse_reference(struct sg_arena *a, const char *raw, size_t len,
                             struct sg_mime *out);

/* Converts s[0..n) from charset (NULL: undeclared) to UTF-8 in the arena. Undeclared text is
 * UTF-8 if it is valid, else windows-1252; latin1 and ASCII labels are read as windows-1252
 * (as browsers do); unknown charsets as undeclared. At most max output bytes are kept (cut at a
 * character boundary; *cut set). NULL when the arena is full. */
char *sg__mime_to_utf8(struct sg_arena *a, const char *charset, const char *s, size_t n,
                       size_t max, size_t *out_len, bool *cut);

#endif
