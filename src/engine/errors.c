/* sg_strerror / sg_err_name / sg_action_name from the one error list in sendguard.h. */
#include "sendguard.h"

const char *sg_strerror(int err)
{
    switch (err) {
    case 0: return "success";
#define SG__ERRNO_TEXT(name, value, text) case value: return text;
    SG_ERRNO_MAP(SG__ERRNO_TEXT)
#undef SG__ERRNO_TEXT
    }
    return "unknown error";
}

const char *sg_err_name(int err)
{
    switch (err) {
    case 0: return "OK";
#define SG__ERRNO_NAME(name, value, text) case value: return "SG_E" #name;
    SG_ERRNO_MAP(SG__ERRNO_NAME)
#undef SG__ERRNO_NAME
    }
    return "SG_EUNKNOWN";
}

const char *sg_action_name(enum sg_action a)
{
    switch (a) {
    case SG_ALLOW: return "allow";
    case SG_DEFER: return "defer";
    case SG_HOLD: return "hold";
    case SG_REJECT: return "reject";
    case SG_REVIEW: return "review";
    case SG_BLOCK: return "block";
    }
    return "allow";
}
