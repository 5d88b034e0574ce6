/* The monitor's queue of drift events (dm_queue): pushed by the window checks (drift_check.c)
 * and the label path (drift.c), drained by kite_drift_events; full, the newest event is
 * dropped and counted. Its own file because drift.c calls the checks and the checks push
 * events: in drift.c the two files were a cycle (check_no_cycles). */
#include "drift_int.h"

void kite__drift_push_event(kite_drift_monitor *m, const kite_drift_event *e)
{
    if (m->dm_queue_len == DRIFT_EVENT_QUEUE) {
        m->dm_queue_dropped++;
        return;
    }
    m->dm_queue[(m->dm_queue_head + m->dm_queue_len) % DRIFT_EVENT_QUEUE] = *e;
    m->dm_queue_len++;
}

size_t kite_drift_events(kite_drift_monitor *m, kite_drift_event *out, size_t max)
{
    size_t n = 0;
    while (n < max && m->dm_queue_len) {
        out[n++] = m->dm_queue[m->dm_queue_head];
        m->dm_queue_head = (m->dm_queue_head + 1) % DRIFT_EVENT_QUEUE;
        m->dm_queue_len--;
    }
    return n;
}
