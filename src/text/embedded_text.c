/* Data files of the text layer built into the library, so a bare binary knows them: the URL
 * shortener list, the abused top-level domains, the free mailbox providers, the widely known
 * sites and the free page hosts. See util/embed.h. */
#include "text/urls.h"
#include "util/embed.h"

SG__EMBED(sg__url_shorteners, "data/url_shorteners.txt");
SG__EMBED(sg__url_abused_tlds, "data/abused_tlds.txt");
SG__EMBED(sg__freemail_domains, "data/freemail_domains.txt");
SG__EMBED(sg__popular_domains, "data/popular_domains.txt");
SG__EMBED(sg__free_hosting_domains, "data/free_hosting_domains.txt");
