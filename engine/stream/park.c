/* Parking: during a rebalance or a transaction commit the control thread must own every
 * worker's windows and the consumer side of its ring, so it stops the workers at a loop
 * boundary. Rare path, so a mutex and condition variables; the mutex hands the workers' state
 * to the control thread and back. */
#include "park.h"

void kite__park_init(kite_park *pk)
{
    pthread_mutex_init(&pk->pk_lock, NULL);
    pthread_cond_init(&pk->pk_cond, NULL);
}

void kite__park_destroy(kite_park *pk)
{
    pthread_mutex_destroy(&pk->pk_lock);
    pthread_cond_destroy(&pk->pk_cond);
}

void kite__park_hold(kite_pipeline *pl)
{
    kite_park *pk = &pl->pl_park;
    pthread_mutex_lock(&pk->pk_lock);
    /* Release: pairs with the workers' acquire load in kite__park_point. */
    atomic_store_explicit(&pk->pk_request, 1, memory_order_release);
    /* A worker blocked in consume wakes at once instead of after its idle wait. */
    for (int i = 0; i < pl->pl_nworkers; i++)
        if (pl->pl_workers[i].kw_queue) rd_kafka_queue_yield(pl->pl_workers[i].kw_queue);
    while (pk->pk_parked < pk->pk_running) pthread_cond_wait(&pk->pk_cond, &pk->pk_lock);
    pthread_mutex_unlock(&pk->pk_lock);
}

void kite__park_release(kite_pipeline *pl)
{
    kite_park *pk = &pl->pl_park;
    pthread_mutex_lock(&pk->pk_lock);
    atomic_store_explicit(&pk->pk_request, 0, memory_order_release);
    pthread_cond_broadcast(&pk->pk_cond);
    pthread_mutex_unlock(&pk->pk_lock);
}

void kite__park_point(kite_pipeline *pl)
{
    kite_park *pk = &pl->pl_park;
    /* Acquire: pairs with the release store in kite__park_hold. */
    if (!atomic_load_explicit(&pk->pk_request, memory_order_acquire)) return;
    pthread_mutex_lock(&pk->pk_lock);
    pk->pk_parked++;
    pthread_cond_broadcast(&pk->pk_cond);
    while (atomic_load_explicit(&pk->pk_request, memory_order_acquire))
        pthread_cond_wait(&pk->pk_cond, &pk->pk_lock);
    pk->pk_parked--;
    pthread_mutex_unlock(&pk->pk_lock);
}

void kite__park_enter(kite_pipeline *pl, int n)
{
    kite_park *pk = &pl->pl_park;
    pthread_mutex_lock(&pk->pk_lock);
    pk->pk_running += n;
    pthread_mutex_unlock(&pk->pk_lock);
}

void kite__park_leave(kite_pipeline *pl, int n)
{
    kite_park *pk = &pl->pl_park;
    pthread_mutex_lock(&pk->pk_lock);
    pk->pk_running -= n;
    pthread_cond_broadcast(&pk->pk_cond); /* a hold waiting for it counts one fewer */
    pthread_mutex_unlock(&pk->pk_lock);
}
