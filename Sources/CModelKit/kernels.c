#include "CModelKit.h"

// One baseline and one AVX2+FMA build of each kernel, chosen at load time (ifunc). Other
// architectures and compilers get the single baseline build, and so do sanitizer builds: the
// ifunc resolvers run during relocation, before the sanitizer runtime is initialized, and an
// instrumented resolver crashes the process (seen with ThreadSanitizer).
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define MK_SANITIZED 1
#endif
#endif
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__) && !defined(MK_SANITIZED)
#define MK_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MK_CLONES
#endif

// __builtin_elementwise_sqrt is llvm.sqrt without errno semantics, so it vectorizes.
#if defined(__clang__)
#define MK_SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define MK_SQRT(x) __builtin_sqrtf(x)
#endif

MK_CLONES
void mk_adam_update(float *restrict p, float *restrict g, float *restrict m, float *restrict v,
                    long count, float beta1, float beta2, float step_size, float inv_root_correction2,
                    float epsilon, float decay) {
    const float one_minus_beta1 = 1.0f - beta1;
    const float one_minus_beta2 = 1.0f - beta2;
    for (long k = 0; k < count; k++) {
        const float gk = g[k];
        const float mk = beta1 * m[k] + one_minus_beta1 * gk;
        const float vk = beta2 * v[k] + one_minus_beta2 * gk * gk;
        m[k] = mk;
        v[k] = vk;
        p[k] = p[k] * decay - step_size * mk / (MK_SQRT(vk) * inv_root_correction2 + epsilon);
        g[k] = 0.0f;
    }
}

MK_CLONES
void mk_fill_rows(float *restrict z, const float *restrict bias, long rows, long outputs) {
    for (long r = 0; r < rows; r++) {
        float *restrict row = z + r * outputs;
        for (long o = 0; o < outputs; o++) {
            row[o] = bias[o];
        }
    }
}

MK_CLONES
void mk_relu(float *restrict z, long count) {
    for (long k = 0; k < count; k++) {
        z[k] = z[k] > 0.0f ? z[k] : 0.0f;
    }
}

MK_CLONES
void mk_relu_backward(float *restrict delta, const float *restrict activated, long count) {
    for (long k = 0; k < count; k++) {
        delta[k] = activated[k] > 0.0f ? delta[k] : 0.0f;
    }
}

MK_CLONES
void mk_sum_columns(const float *restrict dz, float *restrict sums, long rows, long outputs) {
    for (long o = 0; o < outputs; o++) {
        sums[o] = 0.0f;
    }
    for (long r = 0; r < rows; r++) {
        const float *restrict row = dz + r * outputs;
        for (long o = 0; o < outputs; o++) {
            sums[o] += row[o];
        }
    }
}

void mk_gather_rows(float *restrict destination, const float *restrict source, const long *restrict indices,
                    long rows, long width, const long *restrict next_indices, long next_rows) {
    const long bytes = width * (long)sizeof(float);
    for (long r = 0; r < next_rows; r++) {
        const char *row = (const char *)(source + next_indices[r] * width);
        for (long offset = 0; offset < bytes; offset += 64) {
            __builtin_prefetch(row + offset, 0, 3);
        }
    }
    for (long r = 0; r < rows; r++) {
        __builtin_memcpy(destination + r * width, source + indices[r] * width, (unsigned long)bytes);
    }
}

MK_CLONES
void mk_dense_row(const float *restrict x, const float *restrict w, const float *restrict bias,
                  float *restrict y, long inputs, long outputs) {
    for (long o = 0; o < outputs; o++) {
        y[o] = bias[o];
    }
    for (long i = 0; i < inputs; i++) {
        const float xi = x[i];
        const float *restrict row = w + i * outputs;
        for (long o = 0; o < outputs; o++) {
            y[o] += xi * row[o];
        }
    }
}

MK_CLONES
void mk_add_and_clear(float *restrict sum, float *restrict addend, long count) {
    for (long k = 0; k < count; k++) {
        sum[k] += addend[k];
        addend[k] = 0.0f;
    }
}
