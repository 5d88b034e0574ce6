/* Bounded delayed-label join buffer (see drift_labels.h). */
#include "drift_labels.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_key(uint64_t k)
{
    k ^= k >> 33; /* murmur3 finalizer: keys are often sequential ids */
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return (size_t)k;
}

int kite__label_buffer_init(kite_label_buffer *b, size_t capacity)
{
    memset(b, 0, sizeof *b);
    if (capacity == 0 || capacity > (1u << 30)) return -1;
    size_t n = 1;
    while (n < 2 * capacity) n <<= 1;
    b->klb_cap = capacity;
    b->klb_index_mask = n - 1;
    b->klb_keys = calloc(capacity, sizeof *b->klb_keys);
    b->klb_preds = calloc(capacity, sizeof *b->klb_preds);
    b->klb_live = calloc(capacity, 1);
    b->klb_index = calloc(n, sizeof *b->klb_index);
    if (!b->klb_keys || !b->klb_preds || !b->klb_live || !b->klb_index) {
        kite__label_buffer_free(b);
        return -1;
    }
    return 0;
}

void kite__label_buffer_free(kite_label_buffer *b)
{
    free(b->klb_keys);
    free(b->klb_preds);
    free(b->klb_live);
    free(b->klb_index);
    memset(b, 0, sizeof *b);
}

/* Hash slot holding key, or the empty slot where it would go. */
static size_t find(const kite_label_buffer *b, uint64_t key)
{
    size_t h = hash_key(key) & b->klb_index_mask;
    while (b->klb_index[h] && b->klb_keys[b->klb_index[h] - 1] != key)
        h = (h + 1) & b->klb_index_mask;
    return h;
}

/* Deletion with backward shift (no tombstones): later entries of the probe run move up so
 * every lookup still finds its key before an empty slot. */
static void unindex(kite_label_buffer *b, size_t h)
{
    size_t mask = b->klb_index_mask;
    b->klb_index[h] = 0;
    for (size_t j = (h + 1) & mask; b->klb_index[j]; j = (j + 1) & mask) {
        size_t home = hash_key(b->klb_keys[b->klb_index[j] - 1]) & mask;
        /* j's entry may fill the hole at h if its home is not in (h, j] cyclically. */
        int between = h <= j ? (home > h && home <= j) : (home > h || home <= j);
        if (!between) {
            b->klb_index[h] = b->klb_index[j];
            b->klb_index[j] = 0;
            h = j;
        }
    }
}

void kite__label_buffer_put(kite_label_buffer *b, uint64_t key, float prediction)
{
    size_t h = find(b, key);
    if (b->klb_index[h]) { /* same key again: newest prediction wins, slot keeps its age */
        b->klb_preds[b->klb_index[h] - 1] = prediction;
        return;
    }
    if (b->klb_len == b->klb_cap) { /* evict the oldest slot */
        size_t old = b->klb_head;
        if (b->klb_live[old]) {
            unindex(b, find(b, b->klb_keys[old]));
            b->klb_dropped++;
        }
        b->klb_head = (b->klb_head + 1) % b->klb_cap;
        b->klb_len--;
        h = find(b, key);
    }
    size_t slot = (b->klb_head + b->klb_len) % b->klb_cap;
    b->klb_keys[slot] = key;
    b->klb_preds[slot] = prediction;
    b->klb_live[slot] = 1;
    b->klb_index[h] = (uint32_t)slot + 1;
    b->klb_len++;
}

int kite__label_buffer_take(kite_label_buffer *b, uint64_t key, float *prediction)
{
    if (!b->klb_index) return 0;
    size_t h = find(b, key);
    if (!b->klb_index[h]) return 0;
    size_t slot = b->klb_index[h] - 1;
    *prediction = b->klb_preds[slot];
    b->klb_live[slot] = 0; /* the ring slot is reclaimed when it becomes the oldest */
    unindex(b, h);
    return 1;
}
