#include "offsets.h"

#include <stdlib.h>
#include <string.h>

kite_offsets *kite__offsets_new(const char *topic, rd_kafka_topic_t *rkt, int32_t partition,
                               size_t capacity)
{
    kite_offsets *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ko_topic = strdup(topic);
    t->ko_offset = malloc(capacity * sizeof *t->ko_offset);
    t->ko_ts_ms = malloc(capacity * sizeof *t->ko_ts_ms);
    t->ko_pending = calloc(capacity, 1);
    t->ko_store = rd_kafka_topic_partition_list_new(1);
    if (t->ko_store) rd_kafka_topic_partition_list_add(t->ko_store, topic, partition);
    if (!t->ko_topic || !t->ko_offset || !t->ko_ts_ms || !t->ko_pending || !t->ko_store) {
        kite__offsets_free(t);
        return NULL;
    }
    /* Touched now (~1.1 MiB at 65,536 slots), not as offsets advance: RSS then does not climb
     * for the first max_inflight events of every partition (tools/soak.sh's growth check). */
    memset(t->ko_offset, 0, capacity * sizeof *t->ko_offset);
    memset(t->ko_ts_ms, 0, capacity * sizeof *t->ko_ts_ms);
    memset(t->ko_pending, 0, capacity);
    t->ko_rkt = rkt;
    t->ko_partition = partition;
    t->ko_mask = capacity - 1;
    t->ko_done_next = t->ko_stored_next = -1;
    return t;
}

void kite__offsets_free(kite_offsets *t)
{
    if (!t) return;
    free(t->ko_topic);
    free(t->ko_offset);
    free(t->ko_ts_ms);
    free(t->ko_pending);
    if (t->ko_store) rd_kafka_topic_partition_list_destroy(t->ko_store);
    free(t);
}

void kite__offsets_done(kite_offsets *t, uint64_t seq)
{
    t->ko_pending[seq & t->ko_mask]--;
    while (t->ko_tail != t->ko_head && t->ko_pending[t->ko_tail & t->ko_mask] == 0) {
        t->ko_done_next = t->ko_offset[t->ko_tail & t->ko_mask] + 1;
        t->ko_tail++;
    }
}
