/* The check table: every check is one row, run in this order. Adding a check is one file in
 * src/checks/ and one row here. Order matters for readability of reasons and for cost: hard
 * refusals (lists, trust) come before counting (rates, fan-out), and content (rules, Bayes),
 * the most expensive, comes last. */
#include "checks/checks.h"

const struct sg_check sg__checks[] = {
    SG_CHECK_LISTS,
    SG_CHECK_SIGNUP,
    SG_CHECK_TRUST,
    SG_CHECK_RATELIMIT,
    SG_CHECK_FANOUT,
    SG_CHECK_RULES,
    SG_CHECK_BAYES,
};
const unsigned sg__ncheck = sizeof sg__checks / sizeof sg__checks[0];
