// CModelKit: the elementwise inner loops of a ModelKit training step, in C.
//
// They exist because Swift cannot express two things these loops need: a square root that
// vectorizes (Swift's `squareRoot()` keeps libm's errno path and goes scalar), and per-function
// CPU targets. On x86-64 each kernel is compiled twice (baseline SSE2 and x86-64-v3, i.e. AVX2+FMA)
// and the dynamic loader picks one for the running CPU, so the build stays portable.
//
// All pointers are owned by the caller; `restrict` pointers must not overlap. Counts are
// element counts. No function allocates, prints or fails.
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
