/* Scanning a message: one Hyperscan pass over norm_subject + "\n" + norm records the first
 * match of every pattern rule, the facts are counted from the content, expr rules are evaluated
 * in dependency order, and each rule that fires becomes a hit quoting the original words. */
#include <libpsl.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "rules/internal.h"
#include "text/content.h"
#include "text/normalize.h"
#include "text/urls.h"
#include "util/alloc.h"
#include "util/arena.h"

#define MAX_SCAN ((size_t)16 << 20)
#define NO_START UINT32_MAX /* the match came from an expression compiled without SOM */

struct sg_rules_scratch {
    hs_scratch_t *hs;
    uint64_t for_id;     /* the ruleset this scratch fits */
    size_t cap;          /* rule slots */
    uint8_t *fired;
    uint32_t *from, *to; /* first match of each pattern rule in the scan buffer */
    size_t pending;      /* pattern rules not matched yet in this scan */
    char *buf;
    size_t buf_cap;
};

static int fit(struct sg_rules_scratch *s, const struct sg_rules *rs)
{
    if (s->for_id == rs->id)
        return 0;
    if (rs->db && hs_alloc_scratch(rs->db, &s->hs) != HS_SUCCESS)
        return SG_ENOMEM;
    if (rs->nrules > s->cap) {
        size_t cap = rs->nrules;
        uint8_t *f = sg__realloc(s->fired, cap);
        if (f)
            s->fired = f;
        uint32_t *a = f ? sg__realloc(s->from, cap * sizeof *a) : NULL;
        if (a)
            s->from = a;
        uint32_t *b = a ? sg__realloc(s->to, cap * sizeof *b) : NULL;
        if (!b)
            return SG_ENOMEM;
        s->to = b;
        s->cap = cap;
    }
    s->for_id = rs->id;
    return 0;
}

struct sg_rules_scratch *sg__rules_scratch_new(const struct sg_rules *rs)
{
    struct sg_rules_scratch *s = sg__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (rs && fit(s, rs) != 0) {
        sg__rules_scratch_free(s);
        return NULL;
    }
    return s;
}

void sg__rules_scratch_free(struct sg_rules_scratch *s)
{
    if (!s)
        return;
    if (s->hs)
        hs_free_scratch(s->hs);
    sg__free(s->fired);
    sg__free(s->from);
    sg__free(s->to);
    sg__free(s->buf);
    sg__free(s);
}

struct match_ctx {
    struct sg_rules_scratch *s;
    const struct sg_rules *rs;
};

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ud)
{
    struct match_ctx *m = ud;
    struct sg_rules_scratch *s = m->s;
    if (id >= m->rs->nexprs)
        return 0;
    uint32_t rule = m->rs->expr_rule[id];
    if (s->fired[rule])
        return 0;
    /* Matches arrive in order of their end: the first one reported is the earliest. */
    s->fired[rule] = 1;
    s->from[rule] = m->rs->expr_som[id] ? (uint32_t)from : NO_START;
    s->to[rule] = (uint32_t)to;
    return --s->pending == 0; /* every pattern rule matched: nothing more to learn */
}

/* Does hay contain needle as a whole word? */
static bool has_word(const char *hay, size_t hn, const char *needle)
{
    size_t nn = strlen(needle);
    if (nn == 0 || nn > hn)
        return false;
    for (const char *p = hay; (size_t)(p - hay) + nn <= hn;) {
        const char *q = memmem(p, hn - (size_t)(p - hay), needle, nn);
        if (!q)
            return false;
        bool left = q == hay || !sg__word_byte((unsigned char)q[-1]);
        bool right = (size_t)(q - hay) + nn == hn || !sg__word_byte((unsigned char)q[nn]);
        if (left && right)
            return true;
        p = q + 1;
    }
    return false;
}

/* Words a sender puts next to a brand to sound like its department ("PayPal Service", "Microsoft
 * account team", "Apple ID", "DHL Express Kundenservice"), lower case. */
static const char *const service_words[] = {
    "account", "accounts", "admin", "administrator", "alert", "alerts", "assistance", "atendimento",
    "billing", "bv", "care", "center", "centre", "client", "clients", "cliente", "clientes", "club",
    "com", "compte",
    "conta", "cuenta", "customer", "customers", "da", "de", "delivery", "department", "dept", "des",
    "do", "du", "express", "gmbh", "help", "helpdesk", "id", "inc", "info", "kundendienst",
    "kundenservice", "klantenservice", "konto", "la", "le", "llc", "ltd", "mail", "mailer",
    "member", "members", "message", "messages", "no", "noreply", "notice", "notification",
    "notifications", "official", "online", "parcel", "pay", "payment", "payments", "premium",
    "prime", "reply", "resolution", "rewards", "sa", "security", "seguridad", "service", "services",
    "serviço", "servicio", "servicios", "serviços", "shipping", "sicherheit", "soporte", "store",
    "suporte", "support", "system", "team", "the", "tracking", "update", "updates",
    "verification", "your", "équipe", "sécurité", "beveiliging", "rekening",
    /* departments and desks in the six languages of the shipped rules (session 4) */
    "abo", "abonnement", "alerta", "alertas", "aviso", "avisos", "bank", "banking", "banco",
    "betalingen", "careers", "commande", "distribuição", "distribución", "envíos", "envios",
    "facturación", "facturacion", "facturation", "fidélité", "fidelite", "hiring", "hr",
    "loyalty", "notificaciones", "notificações", "order", "orders", "pagamento", "pagamentos",
    "pago", "pagos", "paiement", "paiements", "pedidos", "recruitment", "renewal", "renewals",
    "rh", "servicedesk", "subscription", "subscriptions", "zahlung", "zahlungen",
};

static bool is_service_word(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof service_words / sizeof *service_words; i++)
        if (strlen(service_words[i]) == n && memcmp(service_words[i], w, n) == 0)
            return true;
    return false;
}

/* Is the display name the brand itself: every word either a word of the brand's name or a
 * service word? "PayPal Security" claims PayPal; "Lockergnome Apple Core" (a newsletter about
 * Apple) and "Apple Valley Dental" (a practice) merely contain the word. */
static bool name_claims_brand(const char *name, size_t len, const char *brand)
{
    size_t bn = strlen(brand);
    for (size_t i = 0; i < len;) {
        if (!sg__word_byte((unsigned char)name[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && sg__word_byte((unsigned char)name[j]))
            j++;
        /* A word inside the brand's own name ("office" and "365" of "office 365"). */
        bool in_brand = false;
        for (const char *q = brand; !in_brand && (q = memmem(q, bn - (size_t)(q - brand), name + i, j - i));
             q++)
            in_brand = (q == brand || !sg__word_byte((unsigned char)q[-1])) &&
                       ((size_t)(q - brand) + (j - i) == bn ||
                        !sg__word_byte((unsigned char)q[j - i]));
        if (!in_brand && !is_service_word(name + i, j - i) && !(j - i <= 3 && name[i] >= '0' && name[i] <= '9'))
            return false;
        i = j;
    }
    return true;
}

/* The From address's domain, lower case, into buf; 0 when there is none. */
static size_t sender_domain(const char *from_addr, char *buf, size_t cap)
{
    const char *at = from_addr ? strrchr(from_addr, '@') : NULL;
    size_t n = 0;
    for (const char *p = at ? at + 1 : ""; *p && *p != '>' && *p != ' ' && n + 1 < cap; p++)
        buf[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
    while (n && buf[n - 1] == '.')
        n--;
    buf[n] = '\0';
    return n;
}

bool sg__rules_brand_mismatch(const struct sg_rules *rs, struct sg_arena *arena,
                              const char *from_name, const char *from_addr)
{
    if (!rs || !rs->nbrands || !from_name || !from_name[0] || !from_addr)
        return false;
    char domain[256];
    if (sender_domain(from_addr, domain, sizeof domain) == 0)
        return false;
    size_t name_len = strlen(from_name);
    if (name_len > 1024)
        name_len = 1024; /* a display name, not a document */
    struct sg_arena *own = NULL;
    if (!arena && !(arena = own = sg__arena_new(1 << 20)))
        return false;
    struct sg_norm name;
    bool mismatch = false;
    if (sg__normalize(arena, from_name, name_len, false, &name) == 0 && name.len) {
        const char *registrable = NULL;
        bool have_registrable = false;
        /* The bytes that start a word of the name: a brand name can only be a whole word of it
         * if it starts with one, which rules out nearly every brand without a search. */
        uint64_t starts[4] = {0};
        for (size_t i = 0; i < name.len; i++) {
            unsigned char ch = (unsigned char)name.s[i];
            if (sg__word_byte(ch) && (i == 0 || !sg__word_byte((unsigned char)name.s[i - 1])))
                starts[ch >> 6] |= 1ull << (ch & 63);
        }
        for (size_t b = 0; b < rs->nbrands && !mismatch; b++) {
            const struct sg__brand *br = &rs->brands[b];
            if (!br->any_first && !(br->firsts[0] & starts[0]) && !(br->firsts[1] & starts[1]) &&
                !(br->firsts[2] & starts[2]) && !(br->firsts[3] & starts[3]))
                continue; /* every name would be passed over below */
            bool named = false;
            for (size_t k = 0; k < br->nnames && !named; k++) {
                unsigned char first = (unsigned char)br->names[k][0];
                if (sg__word_byte(first) && !(starts[first >> 6] >> (first & 63) & 1))
                    continue;
                named = has_word(name.s, name.len, br->names[k]) &&
                        name_claims_brand(name.s, name.len, br->names[k]);
            }
            if (!named)
                continue;
            if (!have_registrable) {
                registrable = rs->psl ? psl_registrable_domain(rs->psl, domain) : NULL;
                have_registrable = true;
            }
            bool belongs = false;
            for (size_t k = 0; k < br->ndomains && !belongs; k++)
                belongs = sg__brand_domain_belongs(domain, registrable, br->domains[k]);
            mismatch = !belongs;
        }
    }
    sg__arena_free(own);
    return mismatch;
}

/* The display name carries an email address at another registrable domain than the one the
 * mail is from: "support@paypal.com" <x@mailer.example>, where a mail client shows the name.
 * "bob@example.org via Forum" is how platforms and lists relay a member's mail: not counted. */
static bool name_is_other_address(const struct sg_rules *rs, const char *from_name,
                                  const char *from_registrable)
{
    const char *at = from_name ? strchr(from_name, '@') : NULL;
    if (!at || !rs->psl || !from_registrable || strstr(from_name, " via "))
        return false;
    char domain[256];
    size_t n = 0;
    for (const char *p = at + 1; n + 1 < sizeof domain; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            break;
        domain[n++] = c;
    }
    while (n && domain[n - 1] == '.')
        n--;
    domain[n] = '\0';
    if (!memchr(domain, '.', n))
        return false;
    const char *named = psl_registrable_domain(rs->psl, domain);
    return named && strcmp(named, from_registrable) != 0;
}

/* Whether name[0..len) ends in one of ends (case-insensitive); *stem gets the length before it. */
static bool name_ends_in(const char *name, size_t len, const char *const *ends, size_t nends,
                         size_t *stem)
{
    for (size_t k = 0; k < nends; k++) {
        size_t el = strlen(ends[k]);
        if (len > el && strncasecmp(name + len - el, ends[k], el) == 0) {
            *stem = len - el;
            return true;
        }
    }
    return false;
}

/* Attachments whose names end in one of ends (case-insensitive). */
static size_t attachments_ending(const struct sg_content *c, const char *const *ends, size_t nends)
{
    size_t n = 0, stem;
    for (size_t i = 0; c->attachments && i < c->nattachments; i++) {
        const char *name = c->attachments[i].name;
        n += name && name_ends_in(name, strlen(name), ends, nends, &stem);
    }
    return n;
}

/* Attached web pages: a page that opens in the browser with its own form or script, the
 * credential lure's way past link checks. Mail has little honest use for them. */
static const char *const page_ends[] = {".htm", ".html", ".shtml", ".xhtml", ".svg"};
/* Archives and disk images: how malware travels as "the invoice", past scanners that do not
 * open them. A real invoice is a PDF. */
static const char *const archive_ends[] = {".zip", ".rar", ".7z", ".iso", ".img", ".gz",
                                           ".tgz", ".tar", ".cab", ".ace", ".arj", ".r00", ".xz"};
/* Programs and scripts Windows runs on a double click, and Android app packages (the "new
 * payouts app" sent to a phone). */
static const char *const program_ends[] = {".exe", ".scr", ".com", ".pif", ".bat", ".cmd",
                                           ".js", ".jse", ".vbs", ".vbe", ".wsf", ".hta",
                                           ".jar", ".lnk", ".msi", ".ps1", ".cpl", ".reg",
                                           ".apk", ".xapk"};
#define NENDS(ends) (sizeof ends / sizeof *ends)
#define ATTACHMENTS_ENDING(c, ends) attachments_ending(c, ends, NENDS(ends))

/* Disk images: Windows mounts them with a double click, and what is inside escapes the mark
 * that warns of files from the internet. No invoice travels so. */
static const char *const disk_image_ends[] = {".iso", ".img", ".vhd", ".vhdx"};

/* Office documents that carry macros: the "enable editing" lure's payload. */
static const char *const macro_ends[] = {".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".xlsb",
                                         ".pptm", ".potm", ".ppsm", ".ppam"};

/* What a reader takes for a harmless file: documents, pictures, sound and video. */
static const char *const document_ends[] = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt",
                                            ".pptx", ".odt", ".txt", ".rtf", ".csv", ".jpg",
                                            ".jpeg", ".png", ".gif", ".mp3", ".mp4", ".wav"};

/* Attachments named as a document but that are a program or a web page: "Factuur.pdf.scr",
 * "invoice.pdf   .exe", "scan.jpg.html". The document's extension is what a mail client that
 * hides known extensions shows; nothing honest is named so. */
static size_t disguised_attachments(const struct sg_content *c)
{
    size_t n = 0;
    for (size_t i = 0; c->attachments && i < c->nattachments; i++) {
        const char *name = c->attachments[i].name;
        size_t len = name ? strlen(name) : 0, stem;
        if (!name || (!name_ends_in(name, len, program_ends, NENDS(program_ends), &stem) &&
                      !name_ends_in(name, len, page_ends, NENDS(page_ends), &stem)))
            continue;
        while (stem > 0 && (name[stem - 1] == ' ' || name[stem - 1] == '_'))
            stem--; /* the blanks that push the real extension out of sight */
        size_t inner;
        n += name_ends_in(name, stem, document_ends, NENDS(document_ends), &inner);
    }
    return n;
}

/* Whether s starts with two lower-case letters that are a country's top-level domain (not the
 * public suffix list's catch-all rule, which makes any label a suffix). */
static bool is_country_code(const struct sg_rules *rs, const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z'))
        return false;
    char cc[3] = {s[0], s[1], '\0'};
    return psl_is_public_suffix2(rs->psl, cc, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

/* "payback-punkte.de-service.club", "jofogas.hu-fizetes.org": a name and a country's
 * top-level domain read as a domain of that country, glued with a hyphen to the registrable
 * domain that answers. The name before it is a subdomain label of five letters at least, so
 * "www.de-cix.net" and "mail.at-home.example" (a host and a company named so) stay out; only
 * links are read so, since a company's own mail host may well be named like that. */
static bool host_glues_country_domain(const struct sg_rules *rs, const char *host,
                                      const char *dom)
{
    if (!host || !dom || dom - host < 6 || dom[-1] != '.' || strlen(dom) < 4 || dom[2] != '-' ||
        !rs->psl)
        return false;
    const char *label = dom - 1; /* the label before dom */
    while (label > host && label[-1] != '.')
        label--;
    return dom - 1 - label >= 5 && is_country_code(rs, dom);
}

static bool label_has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

/* "schneider-technik.de.mitarbeiter-dokumente.com": a company-like name and a country's
 * top-level domain as subdomain labels in front of the registrable domain that answers. The
 * name has a hyphen and five letters at least: universities name departments with two letters
 * ("cajun.cs.nott.ac.uk", "export.cr.yp.to"), a language comes first ("de.wikipedia.org"), and
 * no institutional domain counts ("www-swiss.ai.mit.edu"), and a name with digits is a
 * machine's ("uucp-gw-1.pa.dec.com"). */
static bool host_hides_country_domain(const struct sg_rules *rs, const char *host,
                                      const char *dom)
{
    if (!host || !dom || dom <= host || !rs->psl || sg__domain_is_institutional(dom))
        return false;
    for (const char *l = host; l < dom;) {
        const char *e = strchr(l, '.');
        if (!e || e >= dom)
            break;
        const char *next = e + 1, *ne = strchr(next, '.');
        /* next is a two-letter subdomain label (its dot before dom), l the name before it */
        if (ne && ne < dom && ne - next == 2 && e - l >= 5 && memchr(l, '-', (size_t)(e - l)) &&
            !label_has_digit(l, (size_t)(e - l)) && is_country_code(rs, next))
            return true;
        l = next;
    }
    return false;
}

/* A host that carries a whole domain name in its subdomain labels ("example-corp.com.pwreset.info",
 * "login.bank.com.verify.example"): what the reader sees first is a familiar name, the domain
 * that answers is the one at the end. Only the generic top-level names count as the embedded
 * domain's end: two-letter labels are ordinary subdomains ("de.wikipedia.org"). */
static bool host_embeds_domain(const char *host, const char *dom)
{
    static const char *const tlds[] = {"com", "net", "org", "gov", "edu"};
    if (!host || !dom || dom <= host || dom > host + strlen(host))
        return false;
    const char *first_dot = strchr(host, '.');
    for (const char *l = first_dot ? first_dot + 1 : dom; l < dom;) {
        const char *e = strchr(l, '.');
        if (!e || e >= dom)
            break;
        for (size_t k = 0; k < sizeof tlds / sizeof *tlds; k++)
            if ((size_t)(e - l) == strlen(tlds[k]) && strncasecmp(l, tlds[k], (size_t)(e - l)) == 0)
                return true;
        l = e + 1;
    }
    return false;
}

/* Links whose text names a site that is neither where the link goes nor the sender's own:
 * "DONATE NOW at redcross.org" from globalrelief-response.org to grr-donate.help. A sender's
 * newsletter that names itself over a click-tracking link ("shop at example.com" to
 * click.esp.net) and a forum's redirect through its own domain are not counted. */
static double anchors_foreign(const struct sg_content *c, const char *from_registrable)
{
    double n = 0;
    for (size_t u = 0; c->urls && u < c->nurls; u++) {
        const struct sg_text_url *url = &c->urls[u];
        const char *to = url->domain ? url->domain : url->host;
        const char *named = url->anchor_domain;
        if (!named || !to || strcmp(named, to) == 0)
            continue;
        if (from_registrable && (strcmp(named, from_registrable) == 0 ||
                                 strcmp(to, from_registrable) == 0))
            continue;
        n += 1;
    }
    return n;
}

/* Replies go to another registrable domain than the mail came from: the impostor writes from
 * one mailbox and reads the answers in another. */
/* Whether raw mail's Reply-To address is at a free mailbox provider. */
static bool reply_to_freemail(const char *reply_to)
{
    char domain[256];
    return reply_to && sender_domain(reply_to, domain, sizeof domain) &&
           sg__domain_is_freemail(domain);
}

static bool reply_elsewhere(const struct sg_rules *rs, const char *reply_to,
                            const char *from_registrable)
{
    char domain[256];
    if (!reply_to || !from_registrable || !rs->psl || !sender_domain(reply_to, domain, sizeof domain))
        return false;
    const char *registrable = psl_registrable_domain(rs->psl, domain);
    return registrable && strcmp(registrable, from_registrable) != 0;
}

/* The UTF-8 lead bytes (and ASCII) of s[0..n): n less its continuation bytes (10xxxxxx).
 * Eight bytes at a time, since the body is tens of kilobytes at worst and a byte loop was 18 K
 * instructions a mail: a byte is a continuation when its top bit is set and the next is not,
 * which x & ~(x << 1) puts in each byte's top bit (the shift carries nothing into a top bit). */
static size_t utf8_chars(const char *s, size_t n)
{
    const uint64_t tops = 0x8080808080808080ull;
    size_t cont = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t m = (x & ~(x << 1) & tops) >> 7; /* 1 in each continuation byte */
        cont += (size_t)((m * 0x0101010101010101ull) >> 56); /* sum of the eight bytes */
    }
    for (; i < n; i++)
        cont += ((unsigned char)s[i] & 0xC0) == 0x80;
    return n - cont;
}

static void content_facts(const struct sg_rules *rs, const struct sg_content *c,
                          struct sg_arena *arena, double *f)
{
    f[SG_FACT_ATTACHMENTS] = (double)c->nattachments;
    f[SG_FACT_HTML_ATTACHMENTS] = (double)ATTACHMENTS_ENDING(c, page_ends);
    f[SG_FACT_ARCHIVE_ATTACHMENTS] = (double)ATTACHMENTS_ENDING(c, archive_ends);
    f[SG_FACT_PROGRAM_ATTACHMENTS] = (double)ATTACHMENTS_ENDING(c, program_ends);
    f[SG_FACT_DISGUISED_ATTACHMENTS] = (double)disguised_attachments(c);
    f[SG_FACT_MACRO_ATTACHMENTS] = (double)ATTACHMENTS_ENDING(c, macro_ends);
    f[SG_FACT_DISK_IMAGE_ATTACHMENTS] = (double)ATTACHMENTS_ENDING(c, disk_image_ends);
    f[SG_FACT_URLS] = (double)c->nurls;
    f[SG_FACT_ZERO_WIDTH] = c->zero_width;
    f[SG_FACT_BIDI_CONTROLS] = c->bidi_controls;
    f[SG_FACT_MIXED_SCRIPT_WORDS] = c->mixed_script_words;
    f[SG_FACT_HIDDEN_CHARS] = c->hidden_chars;
    f[SG_FACT_FORMS] = c->forms;
    f[SG_FACT_PASSWORD_INPUTS] = c->password_inputs;
    f[SG_FACT_IMAGES] = c->images;
    f[SG_FACT_IMAGES_WITHOUT_TEXT] = c->images_without_text;
    /* Characters of readable text (UTF-8 lead bytes of the normalised body): "an image and
     * nothing to read" needs to know how little there is to read. */
    f[SG_FACT_TEXT_CHARS] =
        rs->uses_text_chars && c->norm ? (double)utf8_chars(c->norm, c->norm_len) : 0;
    static const struct {
        int fact;
        unsigned flag;
    } url_facts[] = {
        {SG_FACT_URL_IP_LITERAL, SG_URL_IP_LITERAL},
        {SG_FACT_URL_SHORTENER, SG_URL_SHORTENER},
        {SG_FACT_URL_PUNYCODE, SG_URL_PUNYCODE},
        {SG_FACT_URL_CONFUSABLE, SG_URL_CONFUSABLE},
        {SG_FACT_URL_ANCHOR_MISMATCH, SG_URL_ANCHOR_MISMATCH},
        {SG_FACT_URL_USERINFO, SG_URL_USERINFO},
        {SG_FACT_URL_DEFANGED, SG_URL_DEFANGED},
        {SG_FACT_URL_SCHEMELESS, SG_URL_SCHEMELESS},
        {SG_FACT_URL_ABUSED_TLD, SG_URL_ABUSED_TLD},
        {SG_FACT_URL_FREE_HOSTING, SG_URL_FREE_HOSTING},
    };
    for (size_t k = 0; k < sizeof url_facts / sizeof url_facts[0]; k++)
        f[url_facts[k].fact] = 0;
    for (size_t u = 0; c->urls && u < c->nurls; u++)
        for (size_t k = 0; k < sizeof url_facts / sizeof url_facts[0]; k++)
            if (c->urls[u].flags & url_facts[k].flag)
                f[url_facts[k].fact] += 1;
    f[SG_FACT_URL_BRAND_LOOKALIKE] = 0;
    f[SG_FACT_URL_EMBEDDED_DOMAIN] = 0;
    for (size_t u = 0; c->urls && u < c->nurls; u++)
        f[SG_FACT_URL_EMBEDDED_DOMAIN] +=
            host_embeds_domain(c->urls[u].host, c->urls[u].domain) ||
            host_glues_country_domain(rs, c->urls[u].host, c->urls[u].domain) ||
            host_hides_country_domain(rs, c->urls[u].host, c->urls[u].domain);
    for (size_t u = 0; rs->uses_url_brand && c->urls && u < c->nurls; u++)
        f[SG_FACT_URL_BRAND_LOOKALIKE] += sg__host_uses_brand(rs, c->urls[u].host, c->urls[u].domain);
    char from_domain[256];
    const char *from_registrable = NULL;
    if (sender_domain(c->from_addr, from_domain, sizeof from_domain) && rs->psl)
        from_registrable = psl_registrable_domain(rs->psl, from_domain);
    f[SG_FACT_URL_ANCHOR_FOREIGN] = anchors_foreign(c, from_registrable);
    f[SG_FACT_FROM_ABUSED_TLD] = sg__url_abused_tld(from_registrable);
    f[SG_FACT_REPLY_TO_OTHER_DOMAIN] = reply_elsewhere(rs, c->reply_to, from_registrable);
    f[SG_FACT_FROM_FREEMAIL] = sg__domain_is_freemail(from_domain) ||
                               sg__domain_is_freemail(from_registrable);
    f[SG_FACT_REPLY_TO_FREEMAIL] = !f[SG_FACT_FROM_FREEMAIL] && reply_to_freemail(c->reply_to);
    /* psl_registrable_domain points into from_domain, as host_embeds_domain wants */
    f[SG_FACT_FROM_EMBEDDED_DOMAIN] = host_embeds_domain(from_domain, from_registrable);
    f[SG_FACT_FROM_NAME_OTHER_ADDRESS] = name_is_other_address(rs, c->from_name, from_registrable);
    f[SG_FACT_FROM_DOMAIN_BRAND_LOOKALIKE] =
        rs->uses_url_brand && sg__host_uses_brand(rs, from_domain, from_registrable);
    /* a brand's own sending domain, but not a free mailbox that anyone has an address at */
    f[SG_FACT_FROM_BRAND_DOMAIN] = from_registrable && !f[SG_FACT_FROM_FREEMAIL] &&
                                   sg__domain_of_a_brand(rs, from_registrable);
    f[SG_FACT_FROM_BRAND_MISMATCH] =
        rs->uses_brand && sg__rules_brand_mismatch(rs, arena, c->from_name, c->from_addr) ? 1 : 0;
}

/* Where to start quoting a match whose start is unknown: the start of its clause (after the
 * last . ! ? : ; or newline) when that is near, else the first word within the quote's length.
 * Never before the body when the match ends in it. */
static size_t clause_start(const char *buf, size_t ns, size_t to)
{
    size_t floor = to > ns ? ns + 1 : 0;
    size_t limit = to > floor + SG_RULES_QUOTE_MAX ? to - SG_RULES_QUOTE_MAX : floor;
    size_t i = to;
    while (i > limit) {
        char ch = buf[i - 1];
        if (ch == '.' || ch == '!' || ch == '?' || ch == ':' || ch == ';' || ch == '\n')
            return i;
        i--;
    }
    if (i == floor)
        return i;
    /* Cut: start at the next word, not in the middle of one. */
    while (i < to && buf[i] != ' ')
        i++;
    return i < to ? i + 1 : limit;
}

/* The subject's offset map, made on the first quote that needs it: struct sg_content has none,
 * but normalising the subject again with the same normaliser gives it, as long as the result is
 * the norm_subject the content holds (content.c builds it that way). */
struct subject_map {
    bool tried;
    const uint32_t *map;
};

static const uint32_t *subject_map(const struct sg_content *c, struct sg_arena *arena,
                                   struct subject_map *sm)
{
    if (sm->tried)
        return sm->map;
    sm->tried = true;
    struct sg_norm n;
    if (c->subject && sg__normalize(arena, c->subject, c->subject_len, true, &n) == 0 &&
        n.len == c->norm_subject_len && memcmp(n.s, c->norm_subject, n.len) == 0)
        sm->map = n.map;
    return sm->map;
}

/* The original text of a match at buf[from..to), trimmed, at most SG_RULES_QUOTE_MAX bytes. */
static const char *make_quote(const struct sg_content *c, const char *buf, size_t ns,
                              size_t from, size_t to, struct sg_arena *arena,
                              struct subject_map *sm)
{
    const char *src = buf + from;
    size_t len = to - from;
    const char *orig = NULL;
    const uint32_t *map = NULL;
    size_t b0 = 0, b1 = 0, olen = 0, nlen = 0;
    if (from > ns) {
        /* In the body: the original words, through the offset map. */
        orig = c->text, map = c->norm_to_text, olen = c->text_len, nlen = c->norm_len;
        b0 = from - ns - 1, b1 = to - ns - 1;
    } else if (to <= ns) {
        map = subject_map(c, arena, sm);
        orig = c->subject, olen = c->subject_len, nlen = ns;
        b0 = from, b1 = to;
    }
    if (orig && map && b1 <= nlen && b0 <= b1) {
        size_t t0 = map[b0], t1 = map[b1];
        if (t0 <= t1 && t1 <= olen) {
            src = orig + t0;
            len = t1 - t0;
        }
    }
    while (len && (*src == ' ' || *src == '\n' || *src == '\t' || *src == '\r'))
        src++, len--;
    while (len && (src[len - 1] == ' ' || src[len - 1] == '\n' || src[len - 1] == '\t' ||
                   src[len - 1] == '\r'))
        len--;
    bool cut = len > SG_RULES_QUOTE_MAX;
    if (cut) {
        len = SG_RULES_QUOTE_MAX - 3; /* room for "…" */
        while (len && ((unsigned char)src[len] & 0xc0) == 0x80)
            len--;
    }
    char *q = sg__arena_alloc(arena, len + (cut ? 3 : 0) + 1);
    if (!q)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        q[i] = ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch;
    }
    if (cut)
        memcpy(q + len, "\xe2\x80\xa6", 3), len += 3;
    q[len] = '\0';
    return q;
}

#define NO_SOURCE SIZE_MAX

/* The pattern rule whose words an expr rule quotes: the first that fired among the rules it
 * reads, left to right, outside any `!` (what the rule rests on, not what it rules out), else
 * the first such rule of an expr rule it reads. ATTACHMENT_MISSING quotes the mention of the
 * attachment, SECRET_REQUEST the request itself. NO_SOURCE when there is none. */
static size_t node_source(const struct sg_rules *rs, const struct sg__rule *r, int node,
                          const uint8_t *fired, int depth)
{
    if (node < 0 || node >= r->nnodes)
        return NO_SOURCE;
    const struct sg__expr_node *nd = &r->nodes[node];
    if (nd->op == SG__EX_NOT)
        return NO_SOURCE;
    if (nd->op == SG__EX_RULE) {
        const struct sg__rule *ref = &rs->rules[nd->ref];
        if (!fired[nd->ref])
            return NO_SOURCE;
        if (ref->kind != SG__RK_EXPR)
            return nd->ref;
        return depth < 4 ? node_source(rs, ref, ref->root, fired, depth + 1) : NO_SOURCE;
    }
    if (nd->op == SG__EX_AND || nd->op == SG__EX_OR) {
        size_t a = node_source(rs, r, nd->a, fired, depth);
        return a != NO_SOURCE ? a : node_source(rs, r, nd->b, fired, depth);
    }
    return NO_SOURCE;
}

int sg__rules_scan(const struct sg_rules *rs, struct sg_rules_scratch *s,
                   const struct sg_content *c, const struct sg_rules_facts *facts, int channel,
                   struct sg_arena *arena, struct sg_rule_hit *hits, size_t n)
{
    if (!rs || !s || !c || (n && !hits))
        return SG_EINVAL;
    int rc = fit(s, rs);
    if (rc)
        return rc;
    if (rs->nrules)
        memset(s->fired, 0, rs->nrules);
    size_t ns = c->norm_subject ? c->norm_subject_len : 0;
    size_t nb = c->norm ? c->norm_len : 0;
    if (rs->db) {
        size_t total = ns + 1 + nb;
        if (total > MAX_SCAN)
            return SG_ETOOBIG;
        if (total > s->buf_cap) {
            size_t cap = s->buf_cap ? s->buf_cap : 8192;
            while (cap < total)
                cap *= 2;
            char *p = sg__realloc(s->buf, cap);
            if (!p)
                return SG_ENOMEM;
            s->buf = p;
            s->buf_cap = cap;
        }
        if (ns)
            memcpy(s->buf, c->norm_subject, ns);
        s->buf[ns] = '\n';
        if (nb)
            memcpy(s->buf + ns + 1, c->norm, nb);
        s->pending = rs->npatterns;
        struct match_ctx m = {s, rs};
        hs_error_t err = hs_scan(rs->db, s->buf, (unsigned)total, 0, s->hs, on_match, &m);
        if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)
            return err == HS_NOMEM ? SG_ENOMEM : SG_EINVAL;
    }
    unsigned chbit = channel >= 0 && channel < 32 ? 1u << channel : ~0u;
    for (size_t i = 0; i < rs->nrules; i++)
        if (s->fired[i] && (!(rs->rules[i].channels & chbit) || rs->rules[i].state == SG__RS_OFF))
            s->fired[i] = 0;
    double f[SG_FACT_COUNT];
    if (facts)
        memcpy(f, facts->v, sizeof f);
    else
        for (int k = 0; k < SG_FACT_COUNT; k++)
            f[k] = NAN;
    content_facts(rs, c, arena, f);
    for (size_t k = 0; k < rs->nexpr; k++) {
        uint32_t i = rs->expr_order[k];
        const struct sg__rule *r = &rs->rules[i];
        s->fired[i] = r->state != SG__RS_OFF && (r->channels & chbit) &&
                      sg__expr_eval(r, s->fired, f);
    }
    size_t out = 0;
    struct subject_map sm = {false, NULL};
    for (size_t i = 0; i < rs->nrules && out < n; i++) {
        if (!s->fired[i])
            continue;
        const struct sg__rule *r = &rs->rules[i];
        struct sg_rule_hit *h = &hits[out++];
        h->code = r->code;
        h->description = r->description;
        h->monitor = r->state == SG__RS_MONITOR;
        h->score = h->monitor ? 0 : r->score;
        h->quote = NULL;
        size_t q = r->kind == SG__RK_EXPR ? node_source(rs, r, r->root, s->fired, 0) : i;
        if (q != NO_SOURCE && arena) {
            size_t to = s->to[q];
            size_t from = s->from[q] == NO_START ? clause_start(s->buf, ns, to) : s->from[q];
            if (from <= to && to <= ns + 1 + nb)
                h->quote = make_quote(c, s->buf, ns, from, to, arena, &sm);
        }
    }
    return (int)out;
}
