/* A message's content as the content checks see it: decoded text (the original, for quoting in
 * reasons), the normalised text (NFKC + case fold + confusable skeleton, zero-width and bidi
 * controls removed) that rules and the classifier read, the URLs with their facts, attachments,
 * the sender as the mail headers claim it, and counts of HTML tricks. Built once per message in
 * the judgement's arena (everything here lives until the verdict is out) by content.c from the
 * event's subject/body/html or raw RFC 822. Never fetches anything. */
#ifndef SG_TEXT_CONTENT_H
#define SG_TEXT_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_arena;
struct sg_event;

/* Facts about one URL. */
enum sg_url_flag {
    SG_URL_IP_LITERAL = 1 << 0,     /* host is an IPv4/IPv6 literal (also decimal/hex forms) */
    SG_URL_SHORTENER = 1 << 1,      /* registrable domain is in data/url_shorteners.txt */
    SG_URL_PUNYCODE = 1 << 2,       /* a host label is xn-- or non-ASCII */
    SG_URL_CONFUSABLE = 1 << 3,     /* a label mixes scripts or is a confusable of a Latin label */
    SG_URL_ANCHOR_MISMATCH = 1 << 4,/* the anchor text names a different registrable domain */
    SG_URL_USERINFO = 1 << 5,       /* https://bank.com@evil.io: user-info before the real host */
    SG_URL_DEFANGED = 1 << 6,       /* written claim-prize[.]com or hxxp:// */
    SG_URL_SCHEMELESS = 1 << 7,     /* found as claim-nft.io/win without a scheme */
    SG_URL_FROM_HTML = 1 << 8,      /* an href (else found in text) */
    SG_URL_ABUSED_TLD = 1 << 9,     /* the domain's suffix is in data/abused_tlds.txt */
    SG_URL_FREE_HOSTING = 1 << 10,  /* the host is under data/free_hosting_domains.txt */
};

struct sg_text_url {
    const char *raw;           /* as written in the message */
    const char *url;           /* normalised: lower-case scheme and host, defanging undone */
    const char *host;          /* lower-case A-label (punycode) form, no port */
    const char *domain;        /* registrable domain (libpsl), A-label; NULL for IP literals */
    const char *anchor;        /* HTML anchor text as shown (decoded); NULL outside HTML */
    const char *anchor_domain; /* the registrable domain the anchor text names, if it names one */
    unsigned flags;            /* enum sg_url_flag */
};

struct sg_text_attachment {
    const char *name, *type;   /* NULL when unknown */
    int64_t size;              /* bytes (decoded); -1 unknown */
};

struct sg_text_header {
    const char *name, *value;  /* value decoded (RFC 2047) to UTF-8 */
};

/* Limits (the content holds what fitted and sg__content_build returns SG_ETOOBIG): at most
 * 1 MiB of decoded text in all (SG_MIME_MAX_TEXT), 200 MIME parts visited, MIME nesting depth
 * 10, 200 URLs (SG_URL_MAX), 200 links per HTML document. */

struct sg_content {
    /* The original text, decoded to UTF-8 (invalid sequences as U+FFFD): the subject, and in
     * text every visible text part (plain parts and the visible text of HTML parts) joined with
     * "\n\n"; the subject is not repeated in text. A text/plain alternative with the same words
     * as its HTML sibling is kept once. Never NULL ("" when absent). */
    const char *subject;
    size_t subject_len;
    const char *text;
    size_t text_len;

    /* The normalised forms the rules and the classifier read: NFKC, case folded, zero-width and
     * bidi controls removed, each character mapped to its confusable skeleton (Unicode TR39),
     * whitespace runs collapsed to one space. norm_to_text[i] is the byte offset in text of the
     * character that produced norm byte i (norm_len + 1 entries), so a reason can quote the
     * original words of a match. */
    const char *norm_subject;
    size_t norm_subject_len;
    const char *norm;
    size_t norm_len;
    const uint32_t *norm_to_text;

    struct sg_text_url *urls;   /* HTML links first, then URLs written in subject and text */
    size_t nurls;
    struct sg_text_attachment *attachments; /* from the MIME structure, else the event's list */
    size_t nattachments;

    /* Raw mail only (NULL otherwise). reply_to is the first address of Reply-To. */
    const char *from_name, *from_addr, *reply_to;
    struct sg_text_header *headers;  /* the headers a rule may need: From, Reply-To, Subject,
                                        Return-Path, Message-ID, X-Mailer, List-Unsubscribe,
                                        Content-Type, Received (first 3), Authentication-Results */
    size_t nheaders;

    /* Counts of tricks. */
    uint32_t zero_width;       /* zero-width characters removed */
    uint32_t bidi_controls;    /* bidi control characters removed */
    uint32_t mixed_script_words; /* words mixing Latin letters with Cyrillic or Greek ones */
    uint32_t hidden_chars;     /* text hidden by display:none, zero size or same colour */
    uint32_t forms, password_inputs;
    uint32_t images, images_without_text;
    bool has_html;
    bool mime_broken;          /* the MIME structure needed repair to read */
    bool short_form;           /* a channel whose messages are short by nature (not email) */
};

/* Builds the content of a message event into *out, allocating in arena. Returns 0, SG_ENOMEM,
 * or SG_ETOOBIG when a part is over its limit (the content then holds what fitted). */
int sg__content_build(struct sg_arena *arena, const struct sg_event *ev, struct sg_content *out);

#endif
