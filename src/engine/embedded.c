/* Files built into the library so that a bare binary enforces the shipped defaults: the
 * default config and the disposable-domain list. SG_SOURCE_DIR comes from CMake. */
#include "engine/config.h"

#define SG__STR2(x) #x
#define SG__STR(x) SG__STR2(x)

#define SG__EMBED(sym, file)                                          \
    __asm__(".section .rodata\n"                                      \
            ".global " #sym "\n"                                      \
            ".hidden " #sym "\n"                                      \
            ".type " #sym ", @object\n"                               \
            ".balign 16\n" #sym ":\n"                                 \
            ".incbin \"" SG__STR(SG_SOURCE_DIR) "/" file "\"\n"       \
            ".global " #sym "_end\n"                                  \
            ".hidden " #sym "_end\n" #sym "_end:\n"                   \
            ".byte 0\n"                                               \
            ".previous\n")

SG__EMBED(sg__default_config_yaml, "config/sendguard.yaml");
SG__EMBED(sg__disposable_domains, "data/disposable_domains.txt");
