/* A parsed event (see DESIGN.md "Event model"): one struct for every type, fields that the type
 * does not have are NULL/0. Strings are decoded once into a buffer the event owns. */
#ifndef SG_ENGINE_EVENT_H
#define SG_ENGINE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sendguard.h"

/* Input limits; each error names the limit it hit. */
#define SG_EVENT_MAX_BYTES (1u << 20)   /* one event's JSON */
#define SG_EVENT_MAX_RECIPIENTS 10000
#define SG_EVENT_MAX_DEPTH 16
#define SG_EVENT_MAX_ID 256             /* tenant, account, message id, sender, recipient */
#define SG_EVENT_MAX_SHORT 4096         /* subject, email, kind, reason, file names ... */
#define SG_EVENT_MAX_ATTACHMENTS 100

struct sg_attachment {
    const char *name, *type;
    int64_t size; /* -1 unknown */
};

struct sg_event {
    enum sg_event_type type;
    sg_time at;               /* 0: absent */
    const char *tenant;
    /* tenant */
    const char *timezone, *working_hours;
    /* account, activity */
    const char *account, *email, *kind;
    sg_time created_at;       /* 0: absent */
    int verified;             /* -1 absent, 0, 1 */
    /* message */
    const char *id, *sender, *subject, *body, *html, *raw, *template_name;
    size_t body_len, html_len, raw_len;
    int channel;              /* enum sg_channel */
    const char **recipients;
    size_t nrecipients;
    struct sg_attachment *attachments;
    size_t nattachments;
    const char *ip;           /* account and message */
    /* report, review */
    const char *message, *reporter, *reason, *decision, *moderator;

    char *strings;            /* decoded strings the fields point into (owned) */
    size_t strings_used, strings_cap;
    char *json;               /* the input text, kept for reports and reviews only */
    size_t json_len;
};

/* The type named by s, or -1. */
int sg__event_type_parse(const char *s);
const char *sg__event_type_name(enum sg_event_type t);

#endif
