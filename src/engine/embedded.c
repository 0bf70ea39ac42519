/* Files built into the library so that a bare binary enforces the shipped defaults: the
 * default config and the disposable-domain list. SG_SOURCE_DIR comes from CMake. */
#include "engine/config.h"
#include "util/embed.h"

SG__EMBED(sg__default_config_yaml, "config/sendguard.yaml");
SG__EMBED(sg__disposable_domains, "data/disposable_domains.txt");
