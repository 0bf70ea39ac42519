/* Fuzz harness: message events from raw mail (sg_event_from_rfc822). Whatever the bytes, the
 * result is an event with a sender and 1..10,000 recipients, or an error that says why. Where
 * the field-by-field reading takes the header block, GMime's message parser must read the same
 * sender, recipients and id from it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/event.h"
#include "text/mail_event.h"

static void same_event(const struct sg_event *a, const struct sg_event *b)
{
    if (strcmp(a->sender, b->sender) != 0 || strcmp(a->id, b->id) != 0 ||
        a->nrecipients != b->nrecipients)
        abort();
    for (size_t i = 0; i < a->nrecipients; i++)
        if (strcmp(a->recipients[i], b->recipients[i]) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_event *ev = NULL;
    char *err = NULL;
    int rc = sg_event_from_rfc822((const char *)data, size, "fuzz", &ev, &err);
    if (rc) {
        if (!err || !err[0] || ev)
            abort();
        sg_free(err);
        return 0;
    }
    if (!ev->sender || !ev->sender[0] || ev->nrecipients == 0 ||
        ev->nrecipients > SG_EVENT_MAX_RECIPIENTS || ev->raw_len != size ||
        memcmp(ev->raw, data, size) != 0)
        abort();
    for (size_t i = 0; i < ev->nrecipients; i++)
        if (!ev->recipients[i][0] || strlen(ev->recipients[i]) > SG_EVENT_MAX_ID)
            abort();
    struct sg_event *fields = NULL, *parsed = NULL;
    if (sg__event_from_rfc822_read((const char *)data, size, "fuzz", SG__RFC822_FIELDS, &fields,
                                   NULL) == 0) {
        if (sg__event_from_rfc822_read((const char *)data, size, "fuzz", SG__RFC822_PARSER,
                                       &parsed, NULL) != 0)
            abort();
        same_event(fields, parsed);
        same_event(fields, ev);
    }
    sg_event_free(fields);
    sg_event_free(parsed);
    sg_event_free(ev);
    return 0;
}
