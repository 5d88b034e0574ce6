/* Private to kite_stream (engine/stream/), not installed.
 * kite_offsets: the in-flight window of one input partition, owned by one worker.
 *
 * Each consumed event takes the next sequence number; its slot holds the event's offset and a
 * pending count = 1 "hold" while the worker is still producing its outputs + 1 per output not
 * yet acknowledged. The tail advances over slots whose count reached 0, in consumption order,
 * so the offset to store (tail event's offset + 1) never passes an event still in flight,
 * even when later events complete first. Offsets are kept per slot because a partition's
 * offsets need not be contiguous (compaction, transaction markers).
 *
 *   seq:      tail ............................ head
 *   slot:     [off|pend] [off|pend] ...  (index = seq & mask)
 *   invariant: head - tail <= capacity; every slot in [tail, head) has pend >= 1 or is done
 *              but behind an undone one. */
#ifndef KITE_OFFSETS_H
#define KITE_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

typedef struct kite_offsets {
    char *ko_topic;
    rd_kafka_topic_t *ko_rkt;    /* hint for a fast match (not owned)              */
    int32_t ko_partition;
    int64_t *ko_offset;
    int64_t *ko_ts_ms;           /* event timestamp per slot (for latency)          */
    uint8_t *ko_pending;
    uint64_t ko_mask;
    uint64_t ko_head;            /* next sequence number                            */
    uint64_t ko_tail;            /* oldest event not yet complete                   */
    int64_t ko_done_next;        /* offset + 1 of the last event completed in order */
    int64_t ko_stored_next;      /* what was last passed to rd_kafka_offsets_store  */
    rd_kafka_topic_partition_list_t *ko_store; /* (topic, partition), made once: every offsets
                                  * store reuses it, so storing allocates nothing per batch */
    int ko_at_eof;               /* an EOF event came after the last message        */
} kite_offsets;

kite_offsets *kite__offsets_new(const char *topic, rd_kafka_topic_t *rkt, int32_t partition,
                               size_t capacity);
void kite__offsets_free(kite_offsets *t);

static inline int kite_offsets_full(const kite_offsets *t)
{
    return t->ko_head - t->ko_tail > t->ko_mask;
}

static inline uint64_t kite_offsets_inflight(const kite_offsets *t)
{
    return t->ko_head - t->ko_tail;
}

/* Registers an event (caller checked !full); it starts with the hold. Returns its seq. */
static inline uint64_t kite_offsets_add(kite_offsets *t, int64_t offset, int64_t ts_ms)
{
    uint64_t seq = t->ko_head++;
    t->ko_offset[seq & t->ko_mask] = offset;
    t->ko_ts_ms[seq & t->ko_mask] = ts_ms;
    t->ko_pending[seq & t->ko_mask] = 1;
    return seq;
}

/* One more output awaits a delivery report for event seq. */
static inline void kite_offsets_expect(kite_offsets *t, uint64_t seq)
{
    t->ko_pending[seq & t->ko_mask]++;
}

/* Drops the hold or one delivered output of seq, then advances the tail over completed events. */
void kite__offsets_done(kite_offsets *t, uint64_t seq);

#endif
