/* Learning the built-in seed corpus (seed.h). Each mail goes through the same content builder
 * and tokenizer as any raw email train reads, so the seed's counts are exactly what learning
 * the files in data/seed by hand would give. */
#include "bayes/seed.h"

#include <string.h>

#include "bayes/bayes.h"
#include "engine/event.h"
#include "engine/policy.h"
#include "sendguard.h"
#include "text/content.h"
#include "util/arena.h"

int sg__bayes_learn_seed(struct sg_bayes *b, struct sg_arena *arena, size_t learned[2])
{
    if (learned)
        learned[0] = learned[1] = 0;
    if (!b || !arena)
        return SG_EINVAL;
    int first = 0;
    for (size_t i = 0; i < sg__bayes_seed_nmails; i++) {
        const struct sg_bayes_seed_mail *m = &sg__bayes_seed_mails[i];
        struct sg_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SG_EV_MESSAGE;
        ev.channel = SG_CH_EMAIL;
        ev.raw = m->data;
        ev.raw_len = (size_t)(m->end - m->data);
        ev.verified = -1;
        struct sg_content content;
        int rc = sg__content_build(arena, &ev, &content);
        if (!rc || rc == SG_ETOOBIG) /* over a limit: learn what fitted, as train does */
            rc = sg__bayes_learn(b, arena, NULL, &content, m->cls, 0);
        if (!rc && learned)
            learned[m->cls]++;
        if (rc && !first)
            first = rc;
        sg__arena_reset(arena);
    }
    return first;
}

bool sg__bayes_global_empty(struct sg_bayes *b)
{
    struct sg_bayes_stats st;
    int rc = sg__bayes_stats(b, NULL, &st);
    return rc == SG_ENOTFOUND || (rc == 0 && st.spam_msgs == 0 && st.ham_msgs == 0);
}
