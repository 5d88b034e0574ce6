/* Private to kite_stream (engine/stream/), not installed. Parking (park.c): the control thread
 * holds every worker at a loop boundary (rebalance, transaction commit) and so owns their
 * windows and rings' consumer side until it lets them go. */
#ifndef KITE_STREAM_PARK_H
#define KITE_STREAM_PARK_H

#include "pipeline_int.h"

void kite__park_init(kite_park *pk);
void kite__park_destroy(kite_park *pk);
/* Control thread: returns once every running worker is parked. */
void kite__park_hold(kite_pipeline *pl);
/* Control thread: lets the parked workers go on. */
void kite__park_release(kite_pipeline *pl);
/* A worker, at the top of its loop: blocks while the control thread holds the workers. */
void kite__park_point(kite_pipeline *pl);
/* Before n workers start: they count as running (a hold waits for them). */
void kite__park_enter(kite_pipeline *pl, int n);
/* A worker that ends, or ones that never started (n of them): they stop counting as running. */
void kite__park_leave(kite_pipeline *pl, int n);

#endif
