/* Builds a file of the source tree into the library with .incbin, so a bare binary carries its
 * shipped data (default config, disposable domains, URL shorteners, rules) wherever it is
 * installed. SG_SOURCE_DIR comes from CMake; a file listed here must also be an OBJECT_DEPENDS
 * of the source that embeds it, or edits to it will not rebuild the library. */
#ifndef SG_UTIL_EMBED_H
#define SG_UTIL_EMBED_H

#define SG__STR2(x) #x
#define SG__STR(x) SG__STR2(x)

/* sym[] .. sym_end: the file's bytes, 16-byte aligned (a NUL follows sym_end, unused). */
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
            ".previous\n");                                           \
    extern const char sym[], sym##_end[]

#endif
