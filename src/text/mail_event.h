/* The two readings behind sg_event_from_rfc822 (mail_event.c), for tests and fuzzing. */
#ifndef SG_TEXT_MAIL_EVENT_H
#define SG_TEXT_MAIL_EVENT_H

#include <stddef.h>

struct sg_event;

enum sg__rfc822_reading {
    SG__RFC822_ANY,    /* the field reading where the block is well-formed, else the parser */
    SG__RFC822_FIELDS, /* the field reading only: SG_ENOTFOUND when it leaves the block */
    SG__RFC822_PARSER, /* GMime's message parser only: the reference */
};

/* sg_event_from_rfc822 with the reading chosen. */
int sg__event_from_rfc822_read(const char *raw, size_t len, const char *tenant, int reading,
                               struct sg_event **out, char **errmsg);

#endif
