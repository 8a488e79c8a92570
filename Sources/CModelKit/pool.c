#include "CModelKit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

// A fixed team of threads for data-parallel training steps. A step is short (tens of
// microseconds to a few milliseconds) and comes right after the previous one, so a waiting
// thread first spins for a bounded time, which keeps the hand-off cheap, and only then sleeps
// on the condition variable, which keeps an idle team from burning a core that serving needs.

#define MK_SPIN_NANOSECONDS 50000L

struct mk_pool {
    long workers;
    pthread_t *threads;
    mk_pool_task task;
    void *context;
    // Bumped by mk_pool_run to start a task and by mk_pool_destroy to stop the team.
    _Atomic unsigned long start_generation;
    _Atomic long unfinished;
    _Atomic long barrier_waiting;
    _Atomic unsigned long barrier_generation;
    _Atomic long sleepers;
    _Atomic int stopping;
    pthread_mutex_t mutex;
    pthread_cond_t changed;
};

struct mk_worker_start {
    struct mk_pool *pool;
    long worker;
};

static long now_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)now.tv_sec * 1000000000L + now.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// Wakes every sleeper after a change to one of the pool's words. The sequentially consistent
// order of (change, read sleepers) here and (sleepers += 1, read word) in wait_* guarantees
// that a thread about to sleep either sees the change or is seen as a sleeper.
static void notify(struct mk_pool *pool) {
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->changed);
        pthread_mutex_unlock(&pool->mutex);
    }
}

// Waits until *word differs from `seen`.
static void wait_change(struct mk_pool *pool, _Atomic unsigned long *word, unsigned long seen) {
    long deadline = 0;
    for (long spin = 0; atomic_load_explicit(word, memory_order_acquire) == seen; spin++) {
        if ((spin & 63) == 0) {
            long now = now_nanoseconds();
            if (deadline == 0) {
                deadline = now + MK_SPIN_NANOSECONDS;
            } else if (now > deadline) {
                pthread_mutex_lock(&pool->mutex);
                atomic_fetch_add(&pool->sleepers, 1);
                while (atomic_load(word) == seen) {
                    pthread_cond_wait(&pool->changed, &pool->mutex);
                }
                atomic_fetch_sub(&pool->sleepers, 1);
                pthread_mutex_unlock(&pool->mutex);
                return;
            }
        }
        relax();
    }
}

// Waits until *count is zero.
static void wait_zero(struct mk_pool *pool, _Atomic long *count) {
    long deadline = 0;
    for (long spin = 0; atomic_load_explicit(count, memory_order_acquire) != 0; spin++) {
        if ((spin & 63) == 0) {
            long now = now_nanoseconds();
            if (deadline == 0) {
                deadline = now + MK_SPIN_NANOSECONDS;
            } else if (now > deadline) {
                pthread_mutex_lock(&pool->mutex);
                atomic_fetch_add(&pool->sleepers, 1);
                while (atomic_load(count) != 0) {
                    pthread_cond_wait(&pool->changed, &pool->mutex);
                }
                atomic_fetch_sub(&pool->sleepers, 1);
                pthread_mutex_unlock(&pool->mutex);
                return;
            }
        }
        relax();
    }
}

static void *worker_main(void *argument) {
    struct mk_worker_start start = *(struct mk_worker_start *)argument;
    free(argument);
    struct mk_pool *pool = start.pool;
    unsigned long seen = 0;
    for (;;) {
        wait_change(pool, &pool->start_generation, seen);
        seen = atomic_load_explicit(&pool->start_generation, memory_order_acquire);
        if (atomic_load(&pool->stopping)) {
            return NULL;
        }
        pool->task(pool->context, start.worker);
        if (atomic_fetch_sub(&pool->unfinished, 1) == 1) {
            notify(pool);
        }
    }
}

int mk_pool_create(long workers, mk_pool **out) {
    *out = NULL;
    if (workers < 1) {
        return -EINVAL;
    }
    struct mk_pool *pool = calloc(1, sizeof(struct mk_pool));
    if (pool == NULL) {
        return -ENOMEM;
    }
    pool->workers = workers;
    pool->threads = calloc((size_t)workers, sizeof(pthread_t));
    if (pool->threads == NULL) {
        free(pool);
        return -ENOMEM;
    }
    int result = pthread_mutex_init(&pool->mutex, NULL);
    if (result != 0) {
        free(pool->threads);
        free(pool);
        return -result;
    }
    result = pthread_cond_init(&pool->changed, NULL);
    if (result != 0) {
        pthread_mutex_destroy(&pool->mutex);
        free(pool->threads);
        free(pool);
        return -result;
    }
    // Worker 0 is the thread that calls mk_pool_run; the team starts the others.
    for (long worker = 1; worker < workers; worker++) {
        struct mk_worker_start *start = malloc(sizeof(struct mk_worker_start));
        if (start == NULL) {
            result = ENOMEM;
        } else {
            start->pool = pool;
            start->worker = worker;
            result = pthread_create(&pool->threads[worker], NULL, worker_main, start);
            if (result != 0) {
                free(start);
            }
        }
        if (result != 0) {
            pool->workers = worker;
            mk_pool_destroy(pool);
            return -result;
        }
    }
    *out = pool;
    return 0;
}

long mk_pool_workers(const mk_pool *pool) {
    return pool->workers;
}

void mk_pool_run(mk_pool *pool, mk_pool_task task, void *context) {
    if (pool->workers == 1) {
        task(context, 0);
        return;
    }
    pool->task = task;
    pool->context = context;
    atomic_store_explicit(&pool->unfinished, pool->workers - 1, memory_order_relaxed);
    atomic_fetch_add(&pool->start_generation, 1);
    notify(pool);
    task(context, 0);
    wait_zero(pool, &pool->unfinished);
}

void mk_pool_barrier(mk_pool *pool) {
    if (pool->workers == 1) {
        return;
    }
    unsigned long generation = atomic_load(&pool->barrier_generation);
    if (atomic_fetch_add(&pool->barrier_waiting, 1) == pool->workers - 1) {
        atomic_store(&pool->barrier_waiting, 0);
        atomic_fetch_add(&pool->barrier_generation, 1);
        notify(pool);
    } else {
        wait_change(pool, &pool->barrier_generation, generation);
    }
}

void mk_pool_destroy(mk_pool *pool) {
    if (pool == NULL) {
        return;
    }
    atomic_store(&pool->stopping, 1);
    atomic_fetch_add(&pool->start_generation, 1);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->changed);
    pthread_mutex_unlock(&pool->mutex);
    for (long worker = 1; worker < pool->workers; worker++) {
        pthread_join(pool->threads[worker], NULL);
    }
    pthread_cond_destroy(&pool->changed);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->threads);
    free(pool);
}
