/* Strategy `phone_mask_c`: the worked example of every authoring guide, in C (the same rule and
 * output as phone_mask in Python, phone_mask_js and phone_mask_rust). Every ASCII digit but the
 * last two becomes digest[j % 32] % 10, the digest being the keyed hash of the value's digits;
 * everything else stays; NULL stays NULL. All digests of a batch come from one host call. */
#include "strategy_plugin.h"
#include "confiture.h"

static void set(strategy_plugin_string_t *s, const char *text) { strategy_plugin_string_dup(s, text); }

void exports_confiture_plugin_metadata_describe(exports_confiture_plugin_metadata_plugin_info_t *ret) {
    exports_confiture_plugin_metadata_strategy_info_t *strategy = calloc(1, sizeof *strategy);
    strategy_plugin_string_t *types = calloc(2, sizeof *types);
    set(&ret->name, "c-strategy");
    set(&ret->version, "0.2.0");
    set(&ret->description, "Masks phone numbers, keeping their last two digits (C)");
    set(&strategy->name, "phone_mask_c");
    set(&strategy->description, "Replaces all but the last 2 digits, deterministically");
    set(&types[0], "text");
    set(&types[1], "character varying");
    strategy->accepted_types = (strategy_plugin_list_string_t){types, 2};
    strategy->deterministic = true;
    ret->strategies = (exports_confiture_plugin_metadata_list_strategy_info_t){strategy, 1};
}

bool exports_confiture_plugin_strategy_anonymize(exports_confiture_plugin_strategy_batch_t *batch,
                                                 exports_confiture_plugin_strategy_text_batch_t *ret,
                                                 strategy_plugin_string_t *err) {
    confiture_view in;
    const char *problem = CONFITURE_VIEW(&in, batch->values);
    /* The digits of every value, packed as the hash's inputs (a NULL has none). */
    size_t size = problem ? 0 : in.offsets[in.count];
    uint8_t *digits = malloc(size + 1);
    uint32_t *ends = malloc((in.count + 1) * sizeof *ends);
    strategy_plugin_list_u8_t digests = {0};
    strategy_plugin_string_t host_error = {0};
    confiture_builder out;
    bool begun = !problem && digits && ends && confiture_builder_begin(&out, in.count, size);
    bool ok = begun;
    if (!ok) CONFITURE_ERROR(err, problem ? problem : "out of memory");
    size_t n = 0;
    for (size_t i = 0; ok && i < in.count; i++) {
        size_t len;
        const uint8_t *value = confiture_value(&in, i, &len);
        ends[i] = (uint32_t)n;
        for (size_t k = 0; value && k < len; k++)
            if (value[k] >= '0' && value[k] <= '9') digits[n++] = value[k];
    }
    if (ok) ends[in.count] = (uint32_t)n;
    if (ok && !CONFITURE_HASH_BATCH(strategy_plugin, digits, n, ends, in.count, &digests, &host_error)) {
        CONFITURE_ERROR(err, "keyed-hash-batch failed (is ANONYMIZATION_SECRET set?)");
        strategy_plugin_string_free(&host_error);
        ok = false;
    }
    for (size_t i = 0; ok && i < in.count; i++) {
        size_t len, count = ends[i + 1] - ends[i], seen = 0;
        const uint8_t *value = confiture_value(&in, i, &len);
        uint8_t *masked = value ? confiture_builder_reserve(&out, len) : NULL;
        if (!value) {
            confiture_builder_push_null(&out);
            continue;
        }
        if (!masked) {
            CONFITURE_ERROR(err, "out of memory");
            ok = false;
            break;
        }
        for (size_t k = 0; k < len; k++) {
            bool digit = value[k] >= '0' && value[k] <= '9';
            masked[k] = digit && count > 2 && seen < count - 2
                            ? (uint8_t)('0' + digests.ptr[32 * i + seen % 32] % 10)
                            : value[k];
            seen += digit;
        }
        confiture_builder_commit(&out, len);
    }
    free(digits);
    free(ends);
    strategy_plugin_list_u8_free(&digests);
    exports_confiture_plugin_strategy_batch_free(batch);
    if (ok) CONFITURE_FINISH(&out, ret);
    else if (begun) confiture_builder_discard(&out);
    return ok;
}
