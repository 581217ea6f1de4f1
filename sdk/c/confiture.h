/* confiture.h — header-only helpers for Confiture plugins in C.
 *
 * C plugins are built from wit-bindgen's C bindings of a world of the contract (wit/), with
 * clang and wasi-libc, then made a component with `wasm-tools component new`; see
 * docs/plugins/authoring-c.md. The bindings give you the contract's types and functions; this
 * header adds what every strategy needs on top of them:
 *
 *   - reading a packed batch (`text-batch`: one buffer, offsets, a null bitmap) value by value,
 *     after checking its layout (confiture_view);
 *   - building the batch you return (confiture_builder) in buffers the bindings take over:
 *     wit-bindgen 0.61.1's generated post-return frees each list of a returned text-batch
 *     (`data`, `offsets`, `nulls`) after the host has read it, but only when the list is not
 *     empty, so CONFITURE_FINISH frees an empty list's buffer itself and hands it over as
 *     NULL — nothing leaks, nothing is freed twice;
 *   - hashing many values in one host call (confiture_hash_batch).
 *
 * The bindings' type names start with the world's name (strategy_plugin_...); the macros below
 * take the records by their fields, which are the same in every world.
 */
#ifndef CONFITURE_H
#define CONFITURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A checked, read-only view of a packed batch. */
typedef struct confiture_view {
    const uint8_t *data;
    const uint32_t *offsets;
    const uint8_t *nulls;
    size_t count; /* number of values */
} confiture_view;

/* Checks the layout of a batch and views it: offsets start at 0, never decrease and stay in
 * the data, the bitmap covers every value. Returns NULL when it is fine, else what is wrong. */
static inline const char *confiture_view_init(confiture_view *view, const uint8_t *data,
                                              size_t data_len, const uint32_t *offsets,
                                              size_t offsets_len, const uint8_t *nulls,
                                              size_t nulls_len) {
    if (offsets_len == 0 || offsets[0] != 0) return "the batch's offsets do not start at 0";
    for (size_t i = 0; i + 1 < offsets_len; i++) {
        if (offsets[i] > offsets[i + 1] || offsets[i + 1] > data_len)
            return "the batch's offsets decrease or run past its data";
    }
    if (nulls_len < (offsets_len - 1 + 7) / 8) return "the batch's null bitmap is too short";
    view->data = data;
    view->offsets = offsets;
    view->nulls = nulls;
    view->count = offsets_len - 1;
    return NULL;
}

/* confiture_view_init on a bindings' text-batch record (`batch->values`, say). */
#define CONFITURE_VIEW(view, text_batch)                                                       \
    confiture_view_init((view), (text_batch).data.ptr, (text_batch).data.len,                 \
                        (text_batch).offsets.ptr, (text_batch).offsets.len,                   \
                        (text_batch).nulls.ptr, (text_batch).nulls.len)

/* Value `i` (UTF-8, not NUL-terminated) and its length; NULL for SQL NULL. */
static inline const uint8_t *confiture_value(const confiture_view *view, size_t i, size_t *len) {
    if (view->nulls[i / 8] & (1u << (i % 8))) {
        *len = 0;
        return NULL;
    }
    *len = view->offsets[i + 1] - view->offsets[i];
    return view->data + view->offsets[i];
}

/* Builds the batch a strategy returns; CONFITURE_FINISH hands its buffers to the bindings. */
typedef struct confiture_builder {
    uint8_t *data;
    size_t len, cap;
    uint32_t *offsets;
    size_t count;
    uint8_t *nulls;
} confiture_builder;

/* Starts a batch of `values` values, about `bytes` bytes in all (it grows as needed). Returns
 * false when memory runs out. */
static inline bool confiture_builder_begin(confiture_builder *out, size_t values, size_t bytes) {
    out->len = 0;
    out->count = 0;
    out->cap = bytes > 0 ? bytes : 16;
    out->data = malloc(out->cap);
    out->offsets = malloc((values + 1) * sizeof(uint32_t));
    out->nulls = calloc((values + 7) / 8 + 1, 1);
    if (!out->data || !out->offsets || !out->nulls) {
        free(out->data);
        free(out->offsets);
        free(out->nulls);
        return false;
    }
    out->offsets[0] = 0;
    return true;
}

/* Room for `n` more bytes of the value being written; NULL when memory runs out. Write them,
 * then call confiture_builder_commit(out, n_written). */
static inline uint8_t *confiture_builder_reserve(confiture_builder *out, size_t n) {
    if (out->len + n > out->cap) {
        size_t cap = out->cap * 2 > out->len + n ? out->cap * 2 : out->len + n;
        uint8_t *grown = realloc(out->data, cap);
        if (!grown) return NULL;
        out->data = grown;
        out->cap = cap;
    }
    return out->data + out->len;
}

/* Ends the value being written after `n` bytes were written at confiture_builder_reserve. */
static inline void confiture_builder_commit(confiture_builder *out, size_t n) {
    out->len += n;
    out->count += 1;
    out->offsets[out->count] = (uint32_t)out->len;
}

/* Appends a value (copied); false when memory runs out. */
static inline bool confiture_builder_push(confiture_builder *out, const uint8_t *value, size_t n) {
    uint8_t *at = confiture_builder_reserve(out, n);
    if (!at) return false;
    memcpy(at, value, n);
    confiture_builder_commit(out, n);
    return true;
}

/* Appends SQL NULL. */
static inline void confiture_builder_push_null(confiture_builder *out) {
    out->nulls[out->count / 8] |= (uint8_t)(1u << (out->count % 8));
    confiture_builder_commit(out, 0);
}

/* Frees the buffer of a list that will be handed over empty (the bindings free only non-empty
 * lists) and returns the pointer to hand over. */
static inline void *confiture_handover_(void *buffer, size_t len) {
    if (len > 0) return buffer;
    free(buffer);
    return NULL;
}

/* Frees what a builder holds, for a call that fails after confiture_builder_begin. */
static inline void confiture_builder_discard(confiture_builder *out) {
    free(out->data);
    free(out->offsets);
    free(out->nulls);
}

/* Moves the built batch into the bindings' returned text-batch record `ret` (a pointer). */
#define CONFITURE_FINISH(builder, ret)                                                         \
    do {                                                                                       \
        (ret)->data.len = (builder)->len;                                                      \
        (ret)->data.ptr = confiture_handover_((builder)->data, (builder)->len);                 \
        (ret)->offsets.ptr = (builder)->offsets;                                               \
        (ret)->offsets.len = (builder)->count + 1;                                             \
        (ret)->nulls.len = ((builder)->count + 7) / 8;                                         \
        (ret)->nulls.ptr = confiture_handover_((builder)->nulls, (ret)->nulls.len);            \
    } while (0)

/* Copies `message` into the bindings' string `err` (a pointer) for a failed call. */
#define CONFITURE_ERROR(err, message)                                                          \
    do {                                                                                       \
        const char *confiture_message_ = (message);                                            \
        size_t confiture_len_ = strlen(confiture_message_);                                    \
        (err)->ptr = malloc(confiture_len_);                                                   \
        (err)->len = (err)->ptr ? confiture_len_ : 0;                                          \
        if ((err)->ptr) memcpy((err)->ptr, confiture_message_, confiture_len_);                \
    } while (0)

/* Hashes `count` inputs in one call of the host's `keyed-hash-batch`: input i is
 * data[offsets[i]..offsets[i+1]] (offsets has count + 1 entries, from 0), and digest i is
 * digests[32*i..32*i+32] of `digests_out`, a list the caller frees with the bindings'
 * `<world>_list_u8_free`. `world` is the bindings' prefix, e.g. strategy_plugin. On failure the
 * host's message is in `err` (free it with `<world>_string_free`). Evaluates to true on success. */
#define CONFITURE_HASH_BATCH(world, data_ptr, data_len, offsets_ptr, count, digests_out, err)   \
    confiture_plugin_host_keyed_hash_batch(                                                    \
        &(world##_list_u8_t){.ptr = (uint8_t *)(data_ptr), .len = (data_len)},                 \
        &(world##_list_u32_t){.ptr = (uint32_t *)(offsets_ptr), .len = (count) + 1},           \
        (digests_out), (err))

#endif /* CONFITURE_H */
