/* Data files of the text layer built into the library, so a bare binary knows them: the URL
 * shortener list and the abused top-level domains. See util/embed.h. */
#include "text/urls.h"
#include "util/embed.h"

SG__EMBED(sg__url_shorteners, "data/url_shorteners.txt");
SG__EMBED(sg__url_abused_tlds, "data/abused_tlds.txt");
