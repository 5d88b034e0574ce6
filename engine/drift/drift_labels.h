/* Private to kite_drift (engine/drift/), not installed.
 * Bounded join buffer for delayed labels: predictions wait here by key until their label
 * arrives. A FIFO ring of (key, prediction) of fixed capacity plus an open-addressing index
 * (linear probing, 2x capacity rounded up to a power of two, so probes stay short at <= 50% load).
 * When the ring is full the oldest prediction is dropped (counted), so memory never grows.
 * A key inserted twice keeps its newest prediction. */
#ifndef KITE_DRIFT_LABELS_H
#define KITE_DRIFT_LABELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct kite_label_buffer {
    uint64_t *klb_keys;      /* ring: key of slot i                                */
    float *klb_preds;        /* ring: prediction of slot i                          */
    uint8_t *klb_live;       /* ring: 1 while slot i still waits for its label      */
    size_t klb_cap, klb_head, klb_len; /* ring capacity, oldest slot, slots used    */
    uint32_t *klb_index;     /* hash slot -> ring slot + 1 (0 = empty)              */
    size_t klb_index_mask;
    uint64_t klb_dropped;    /* predictions evicted before their label came         */
} kite_label_buffer;

int kite__label_buffer_init(kite_label_buffer *b, size_t capacity);
void kite__label_buffer_free(kite_label_buffer *b);
void kite__label_buffer_put(kite_label_buffer *b, uint64_t key, float prediction);
/* Removes key's prediction into *prediction; returns 0 if the key is not waiting. */
int kite__label_buffer_take(kite_label_buffer *b, uint64_t key, float *prediction);

#endif
