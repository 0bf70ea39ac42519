/* URL extraction and facts: links found in text (with a scheme, www., schemeless on a real public
 * suffix, defanged) and in HTML hrefs; normalised, with the registrable domain (libpsl), IDN
 * (libidn2), confusable labels (ICU), IP literals in every browser-accepted form, shorteners and
 * anchor-text mismatches. See docs/content.md for what is and is not taken for a URL. */
#ifndef SG_TEXT_URLS_H
#define SG_TEXT_URLS_H

#include <stdbool.h>
#include <stddef.h>

#include "text/content.h"

struct sg_arena;

/* The most URLs kept per message; a URL longer than SG_URL_MAX_LEN bytes is cut there. */
#define SG_URL_MAX 200
#define SG_URL_MAX_LEN 4096

/* The shortener list (data/url_shorteners.txt), built in by embedded_text.c. */
extern const char sg__url_shorteners[];
extern const char sg__url_shorteners_end[];
/* The top-level domains most abused for phishing (data/abused_tlds.txt), likewise. */
extern const char sg__url_abused_tlds[];
extern const char sg__url_abused_tlds_end[];
/* The free mailbox providers (data/freemail_domains.txt), likewise. */
extern const char sg__freemail_domains[];
extern const char sg__freemail_domains_end[];
/* The free page hosts (data/free_hosting_domains.txt), likewise. */
extern const char sg__free_hosting_domains[];
extern const char sg__free_hosting_domains_end[];
/* The widely known sites (data/popular_domains.txt), likewise. */
extern const char sg__popular_domains[];
extern const char sg__popular_domains_end[];

struct sg_url_list {
    struct sg_text_url *v;  /* in the arena, grown as needed up to SG_URL_MAX */
    size_t n, cap;
    bool truncated;         /* more URLs than SG_URL_MAX were seen */
};

/* Parses one URL as written (s[0..len), e.g. an href) into out. flags are set on the result
 * (SG_URL_FROM_HTML, SG_URL_SCHEMELESS). http, https and ftp (also defanged: hxxp) are URLs;
 * without a scheme only "//host", "www." or with SG_URL_SCHEMELESS. Returns 0, SG_EPARSE (not a
 * web URL: mailto:, javascript:, a relative path, an invalid host) or SG_ENOMEM. anchor and
 * anchor_domain are left NULL. Strings live in the arena. */
int sg__url_parse(struct sg_arena *a, const char *s, size_t len, unsigned flags,
                  struct sg_text_url *out);

/* Adds every URL found in text[0..len) to list, skipping ones already there. 0 or SG_ENOMEM. */
int sg__urls_scan(struct sg_arena *a, const char *text, size_t len, struct sg_url_list *list);

/* Adds an HTML link: href with its anchor text (NULL for a form action). When the anchor text
 * names a domain, anchor_domain is set and a different registrable domain in the href sets
 * SG_URL_ANCHOR_MISMATCH. Hrefs that are not web URLs are skipped. 0 or SG_ENOMEM. */
int sg__urls_add_href(struct sg_arena *a, const char *href, const char *anchor,
                      struct sg_url_list *list);

/* True when host[0..len) (lower case) or a parent domain of it is a free page host. */
bool sg__url_is_free_hosting(const char *host, size_t len);

/* True when domain (lower case) or its registrable domain is a listed shortener. */
bool sg__url_is_shortener(const char *host, size_t len);
/* Whether a mail domain (lower case) is a free mailbox provider's: gmail.com, web.de. */
bool sg__domain_is_freemail(const char *domain);

/* True when domain (lower case, A-label) or a parent domain of it is a widely known site. */
bool sg__domain_is_popular(const char *domain);

/* True when the registrable domain sits under a suffix only institutions can register in:
 * .edu, .gov, .mil, .int, or a public suffix such as edu.sg, ac.uk, gov.br, gouv.fr, gob.es
 * (nus.edu.sg, ox.ac.uk). A phisher cannot buy one. */
bool sg__domain_is_institutional(const char *domain);

/* True when the public suffix of a registrable domain (what follows its first dot) is listed in
 * data/abused_tlds.txt. NULL or a bare label: false. */
bool sg__url_abused_tld(const char *domain);

#endif
