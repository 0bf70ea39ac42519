/* Fuzz harness: message events from raw mail (sg_event_from_rfc822). Whatever the bytes, the
 * result is an event with a sender and 1..10,000 recipients, or an error that says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/event.h"

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
    sg_event_free(ev);
    return 0;
}
