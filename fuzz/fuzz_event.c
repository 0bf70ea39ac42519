/* Fuzz harness: JSON events. Parses the input and, when it is a valid event, judges it with an
 * engine over an in-memory store (live and dry run), so checks see hostile field values too. */
#include <stdint.h>
#include <stdlib.h>

#include "sendguard.h"

static sg_time fuzz_clock(void *ud) { return (sg_time)1795392000 * 1000000; }

static struct sg_engine *engine_once(void)
{
    static struct sg_engine *engine;
    static struct sg_store *store;
    if (!engine) {
        struct sg_config *cfg;
        struct sg_clock clock = {fuzz_clock, NULL};
        if (sg_config_new(&cfg) || sg_store_open(NULL, &store) || sg_engine_new(cfg, store, &clock, &engine))
            abort();
        sg_config_free(cfg);
    }
    return engine;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_event *ev;
    char *err = NULL;
    int rc = sg_event_parse((const char *)data, size, -1, &ev, &err);
    if (rc) {
        if (!err || !err[0])
            abort(); /* every failure must say why */
        sg_free(err);
        return 0;
    }
    struct sg_result *res;
    for (unsigned flags = SG_SUBMIT_DRY_RUN;; flags = 0) {
        if (sg_engine_submit(engine_once(), ev, flags, &res) == 0) {
            if (!sg_result_json(res)[0])
                abort();
            sg_result_free(res);
        }
        if (!flags)
            break;
    }
    sg_event_free(ev);
    return 0;
}
