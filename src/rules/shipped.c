/* The shipped rule files, built into the library with .incbin so a bare binary enforces them
 * wherever it is installed. Adding a file to rules/ means adding a line here; test_rules.c
 * fails when a YAML file in rules/ is missing from this list or differs from its built-in copy. */
#include "rules/internal.h"
#include "util/embed.h"

SG__EMBED(sg__rules_brands, "rules/brands.yaml");
SG__EMBED(sg__rules_prize, "rules/prize.yaml");
SG__EMBED(sg__rules_crypto, "rules/crypto.yaml");
SG__EMBED(sg__rules_urgency, "rules/urgency.yaml");
SG__EMBED(sg__rules_account, "rules/account.yaml");
SG__EMBED(sg__rules_payment, "rules/payment.yaml");
SG__EMBED(sg__rules_contact, "rules/contact.yaml");
SG__EMBED(sg__rules_links, "rules/links.yaml");
SG__EMBED(sg__rules_hidden, "rules/hidden.yaml");
SG__EMBED(sg__rules_attachment, "rules/attachment.yaml");
SG__EMBED(sg__rules_bulk, "rules/bulk.yaml");
SG__EMBED(sg__rules_extortion, "rules/extortion.yaml");
SG__EMBED(sg__rules_document, "rules/document.yaml");
SG__EMBED(sg__rules_fraud, "rules/fraud.yaml");
SG__EMBED(sg__rules_conversation, "rules/conversation.yaml");
SG__EMBED(sg__rules_combos, "rules/combos.yaml");

size_t sg__rules_shipped(struct sg__rules_file *out, size_t max)
{
    static const struct {
        const char *name, *start, *end;
    } files[] = {
        {"rules/brands.yaml", sg__rules_brands, sg__rules_brands_end},
        {"rules/prize.yaml", sg__rules_prize, sg__rules_prize_end},
        {"rules/crypto.yaml", sg__rules_crypto, sg__rules_crypto_end},
        {"rules/urgency.yaml", sg__rules_urgency, sg__rules_urgency_end},
        {"rules/account.yaml", sg__rules_account, sg__rules_account_end},
        {"rules/payment.yaml", sg__rules_payment, sg__rules_payment_end},
        {"rules/contact.yaml", sg__rules_contact, sg__rules_contact_end},
        {"rules/links.yaml", sg__rules_links, sg__rules_links_end},
        {"rules/hidden.yaml", sg__rules_hidden, sg__rules_hidden_end},
        {"rules/attachment.yaml", sg__rules_attachment, sg__rules_attachment_end},
        {"rules/bulk.yaml", sg__rules_bulk, sg__rules_bulk_end},
        {"rules/extortion.yaml", sg__rules_extortion, sg__rules_extortion_end},
        {"rules/document.yaml", sg__rules_document, sg__rules_document_end},
        {"rules/fraud.yaml", sg__rules_fraud, sg__rules_fraud_end},
        {"rules/conversation.yaml", sg__rules_conversation, sg__rules_conversation_end},
        {"rules/combos.yaml", sg__rules_combos, sg__rules_combos_end},
    };
    size_t n = sizeof files / sizeof files[0];
    for (size_t i = 0; i < n && i < max; i++) {
        out[i].name = files[i].name;
        out[i].text = files[i].start;
        out[i].len = (size_t)(files[i].end - files[i].start);
    }
    return n < max ? n : max;
}
