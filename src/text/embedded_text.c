/* Data files of the text layer built into the library, so a bare binary knows them: the URL
 * shortener list. See util/embed.h. */
#include "text/urls.h"
#include "util/embed.h"

SG__EMBED(sg__url_shorteners, "data/url_shorteners.txt");
