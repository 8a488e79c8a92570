// CModelKit: the elementwise inner loops of a ModelKit training step, and the thread team of
// its data-parallel form, in C.
//
// The loops exist because Swift cannot express two things they need: a square root that
// vectorizes (Swift's `squareRoot()` keeps libm's errno path and goes scalar), and per-function
// CPU targets. On x86-64 each kernel is compiled twice (baseline SSE2 and x86-64-v3, i.e. AVX2+FMA)
// and the dynamic loader picks one for the running CPU, so the build stays portable. The team is
// in C for waits that spin on C11 atomics with the CPU's pause hint before they sleep on a
// condition variable: a step hands work over every few hundred microseconds, too often for
// Foundation's threads and locks.
//
// All pointers are owned by the caller; `restrict` pointers must not overlap. Counts are
// element counts. No kernel allocates, prints or fails; the team's functions say how they do.
#pragma once

/// Adam/AdamW step over `count` parameters, then g = 0 (ready for the next accumulation):
/// m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2;
/// p = p*decay - step_size * m / (sqrt(v) * inv_root_correction2 + epsilon).
void mk_adam_update(float *restrict p, float *restrict g, float *restrict m, float *restrict v,
                    long count, float beta1, float beta2, float step_size, float inv_root_correction2,
                    float epsilon, float decay);

/// z[r][o] = bias[o] for `rows` rows of `outputs` values (so a product can accumulate onto it).
void mk_fill_rows(float *restrict z, const float *restrict bias, long rows, long outputs);

/// z[k] = max(z[k], 0).
void mk_relu(float *restrict z, long count);

/// delta[k] = 0 wherever activated[k] <= 0 (the ReLU derivative, from the ReLU's output).
void mk_relu_backward(float *restrict delta, const float *restrict activated, long count);

/// sums[o] = sum over r of dz[r][o] (the bias gradient).
void mk_sum_columns(const float *restrict dz, float *restrict sums, long rows, long outputs);

/// Copies rows indices[0..rows) of `source` (row width `width`) to consecutive rows of
/// `destination`, and asks the CPU to start loading the rows `next_indices[0..next_rows)` that
/// the following batch will copy: with a shuffled order over a large data set every row is a
/// cache miss, and the prefetch overlaps those misses with the current step's arithmetic.
void mk_gather_rows(float *restrict destination, const float *restrict source, const long *restrict indices,
                    long rows, long width, const long *restrict next_indices, long next_rows);

/// One row through a dense layer: y[o] = bias[o] + sum over i of x[i] * w[i][o], with `w` an
/// inputs x outputs row-major block. The single-row inference path, without BLAS call overhead.
void mk_dense_row(const float *restrict x, const float *restrict w, const float *restrict bias,
                  float *restrict y, long inputs, long outputs);

/// sum[k] += addend[k], then addend[k] = 0: folds one worker's gradient into the total and
/// leaves its buffer ready for the next accumulation.
void mk_add_and_clear(float *restrict sum, float *restrict addend, long count);

// A fixed team of threads that runs one task on every worker and waits for all of them: the
// data-parallel training step. Worker 0 is the thread that calls mk_pool_run; the pool owns
// the others. Waiting threads spin briefly, then sleep, so an idle pool costs no CPU.

/// An opaque team of threads.
typedef struct mk_pool mk_pool;

/// The work of one worker: called once per worker with the context given to mk_pool_run.
typedef void (*mk_pool_task)(void *context, long worker);

/// Starts a team of `workers` (>= 1; `workers - 1` new threads). Returns 0 and the pool in
/// `*out`, or a negative errno (EINVAL, ENOMEM, or pthread_create's error) and NULL.
/// The caller owns the pool and frees it with mk_pool_destroy.
int mk_pool_create(long workers, mk_pool **out);

/// The number of workers, the calling thread included.
long mk_pool_workers(const mk_pool *pool);

/// Runs task(context, w) for every worker w, w = 0 on the calling thread, and returns when all
/// have returned; everything they wrote is then visible to the caller. One caller at a time.
void mk_pool_run(mk_pool *pool, mk_pool_task task, void *context);

/// Inside a task: returns once every worker of the run has reached the barrier, with
/// everything written before it visible to all. Every worker must call it the same number of times.
void mk_pool_barrier(mk_pool *pool);

/// Stops and joins the team, then frees the pool. NULL is ignored. Not during a run.
void mk_pool_destroy(mk_pool *pool);
