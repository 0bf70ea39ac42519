/* Fuzz harness for the config loader: any bytes as a YAML config on top of the defaults. When
 * they load, the dump must load back without error and dump to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_config *cfg = NULL;
    if (sg_config_new(&cfg) != 0)
        abort(); /* the built-in file must always load */
    if (sg_config_load_string(cfg, "fuzz.yaml", (const char *)data, size) == 0) {
        char *first = NULL, *second = NULL;
        struct sg_config *again = NULL;
        if (sg_config_dump(cfg, &first) != 0 || sg_config_new(&again) != 0 ||
            sg_config_load_string(again, "dump", first, strlen(first)) != 0 ||
            sg_config_dump(again, &second) != 0 || strcmp(first, second) != 0)
            abort();
        sg_free(first);
        sg_free(second);
        sg_config_free(again);
    } else if (sg_config_errmsg(cfg)[0] == '\0') {
        abort(); /* every failure explains itself */
    }
    sg_config_free(cfg);
    return 0;
}
