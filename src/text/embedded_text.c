/* Data files of the text layer built into the library, so a bare binary knows them: the URL
 * shortener list. Same .incbin pattern as engine/embedded.c; SG_SOURCE_DIR comes from CMake. */
#include "text/urls.h"

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

SG__EMBED(sg__url_shorteners, "data/url_shorteners.txt");
