#include "vec_kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

int vk_avx2_usable(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0; /* OSXSAVE, AVX */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return 0; /* XMM and YMM state enabled by the OS */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) ? 1 : 0; /* AVX2 */
}

#define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256 splat(float v) { return _mm256_set1_ps(v); }
AVX2 static inline __m256 mul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
AVX2 static inline __m256 add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
AVX2 static inline __m256 sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
/* Lanes of b where mask, else a (Swift's a.replacing(with: b, where: mask)). */
AVX2 static inline __m256 pick(__m256 a, __m256 b, __m256 mask) { return _mm256_blendv_ps(a, b, mask); }

/* Four independent vectors per call, each step applied to all four before the next: one
   vector's chain of dependent operations is latency-bound, four interleaved are not. */
#define EACH for (int k = 0; k < 4; k++)

/* exp8 of VectorMath.swift, operation for operation, on x[0…3] in place. */
AVX2 static inline void exp8x4(__m256 x[4]) {
    const __m256 hi = splat(88.3762626647949f), lo = splat(-87.3365447504f), shifter = splat(12582912.0f);
    __m256 v[4], t[4], n[4], r[4], p[4];
    EACH v[k] = pick(x[k], hi, _mm256_cmp_ps(x[k], hi, _CMP_GT_OQ));
    EACH v[k] = pick(v[k], lo, _mm256_cmp_ps(v[k], lo, _CMP_LT_OQ));
    EACH t[k] = add(mul(v[k], splat(1.44269504088896341f)), shifter);
    EACH n[k] = sub(t[k], shifter);
    EACH r[k] = sub(sub(v[k], mul(n[k], splat(0.693359375f))), mul(n[k], splat(-2.12194440e-4f)));
    EACH p[k] = add(mul(splat(1.9875691500e-4f), r[k]), splat(1.3981999507e-3f));
    EACH p[k] = add(mul(p[k], r[k]), splat(8.3334519073e-3f));
    EACH p[k] = add(mul(p[k], r[k]), splat(4.1665795894e-2f));
    EACH p[k] = add(mul(p[k], r[k]), splat(1.6666665459e-1f));
    EACH p[k] = add(mul(p[k], r[k]), splat(5.0000001201e-1f));
    EACH p[k] = add(add(mul(p[k], mul(r[k], r[k])), r[k]), splat(1.0f));
    EACH {
        __m256i bits = _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t[k]), _mm256_set1_epi32(0x4B400000)),
                                        _mm256_set1_epi32(127));
        __m256 y = mul(p[k], _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23)));
        y = pick(y, _mm256_setzero_ps(), _mm256_cmp_ps(x[k], lo, _CMP_LT_OQ));
        x[k] = pick(y, splat(INFINITY), _mm256_cmp_ps(x[k], hi, _CMP_GT_OQ));
    }
}

/* One vector through exp8x4 (for tails). */
AVX2 static inline __m256 exp8(__m256 x) {
    __m256 four[4] = {x, x, x, x};
    exp8x4(four);
    return four[0];
}

/* laneSum of VectorMath.swift: lanes i + (i + 4), then pairs two apart, then the last two. */
AVX2 static inline float lane_sum(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(q) + _mm_cvtss_f32(_mm_shuffle_ps(q, q, 1));
}

AVX2 static inline __m256 load_partial(const float *p, ptrdiff_t count, float fill) {
    float lanes[8];
    for (int i = 0; i < 8; i++) lanes[i] = i < count ? p[i] : fill;
    return _mm256_loadu_ps(lanes);
}

AVX2 static inline void store_partial(__m256 v, float *p, ptrdiff_t count) {
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (ptrdiff_t i = 0; i < count; i++) p[i] = lanes[i];
}

AVX2 void vk_softmax_row_avx2(const float *src, float *dst, ptrdiff_t n) {
    ptrdiff_t full = n & ~(ptrdiff_t)7, tail = n - full, j;
    __m256 m8 = splat(-INFINITY);
    for (j = 0; j < full; j += 8) {
        __m256 v = _mm256_loadu_ps(src + j);
        m8 = pick(m8, v, _mm256_cmp_ps(v, m8, _CMP_GT_OQ));
    }
    float lanes[8], m = -INFINITY;
    _mm256_storeu_ps(lanes, m8);
    for (int i = 0; i < 8; i++) if (lanes[i] > m) m = lanes[i];
    for (j = full; j < n; j++) if (src[j] > m) m = src[j];
    const __m256 shift = splat(m);

    double sum = 0;
    __m256 acc = _mm256_setzero_ps();
    j = 0;
    for (; j + 32 <= full; j += 32) {
        __m256 e[4];
        EACH e[k] = sub(_mm256_loadu_ps(src + j + 8 * k), shift);
        exp8x4(e);
        EACH _mm256_storeu_ps(dst + j + 8 * k, e[k]);
        EACH acc = add(acc, e[k]);
        if (((j + 32) & 4095) == 0) { /* 4096 is a multiple of 32: the same folds as below */
            sum += (double)lane_sum(acc);
            acc = _mm256_setzero_ps();
        }
    }
    while (j < full) {
        __m256 e = exp8(sub(_mm256_loadu_ps(src + j), shift));
        _mm256_storeu_ps(dst + j, e);
        acc = add(acc, e);
        j += 8;
        if ((j & 4095) == 0) {
            sum += (double)lane_sum(acc);
            acc = _mm256_setzero_ps();
        }
    }
    if (tail > 0) {
        __m256 e = exp8(sub(load_partial(src + full, tail, -INFINITY), shift));
        store_partial(e, dst + full, tail);
        acc = add(acc, e);
    }
    sum += (double)lane_sum(acc);

    const float s = (float)(1 / sum);
    const __m256 scale = splat(s);
    for (j = 0; j < full; j += 8) _mm256_storeu_ps(dst + j, mul(_mm256_loadu_ps(dst + j), scale));
    for (j = full; j < n; j++) dst[j] *= s;
}

/* gelu8 of GeluVectorExp.swift, operation for operation, on x[0…3] in place. */
AVX2 static inline void gelu8x4(__m256 x[4], int approximate) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 a[4];
    if (approximate) {
        EACH a[k] = mul(mul(mul(splat(0.044715f), x[k]), x[k]), x[k]);
        EACH a[k] = mul(splat(-2.0f), mul(splat(0.797884560802865355f), add(x[k], a[k])));
        exp8x4(a);
        EACH x[k] = _mm256_div_ps(x[k], add(splat(1.0f), a[k]));
        return;
    }
    __m256 z[4], t[4], p[4];
    EACH z[k] = pick(zero, x[k], _mm256_cmp_ps(x[k], zero, _CMP_GT_OQ));
    EACH z[k] = mul(pick(z[k], sub(zero, x[k]), _mm256_cmp_ps(x[k], zero, _CMP_LT_OQ)), splat(0.707106781186547524f));
    EACH t[k] = _mm256_div_ps(splat(1.0f), add(splat(1.0f), mul(splat(0.5f), z[k])));
    EACH p[k] = sub(mul(splat(0.17087277f), t[k]), splat(0.82215223f));
    EACH p[k] = add(mul(p[k], t[k]), splat(1.48851587f));
    EACH p[k] = sub(mul(p[k], t[k]), splat(1.13520398f));
    EACH p[k] = add(mul(p[k], t[k]), splat(0.27886807f));
    EACH p[k] = sub(mul(p[k], t[k]), splat(0.18628806f));
    EACH p[k] = add(mul(p[k], t[k]), splat(0.09678418f));
    EACH p[k] = add(mul(p[k], t[k]), splat(0.37409196f));
    EACH p[k] = add(mul(p[k], t[k]), splat(1.00002368f));
    EACH p[k] = sub(mul(p[k], t[k]), splat(1.26551223f));
    EACH a[k] = sub(p[k], mul(z[k], z[k]));
    exp8x4(a);
    EACH {
        __m256 e = mul(t[k], a[k]);
        __m256 c = pick(e, sub(splat(2.0f), e), _mm256_cmp_ps(x[k], zero, _CMP_GE_OQ));
        x[k] = mul(mul(splat(0.5f), x[k]), c);
    }
}

AVX2 void vk_gelu_avx2(const float *src, float *dst, ptrdiff_t n, int approximate) {
    ptrdiff_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 x[4];
        EACH x[k] = _mm256_loadu_ps(src + j + 8 * k);
        gelu8x4(x, approximate);
        EACH _mm256_storeu_ps(dst + j + 8 * k, x[k]);
    }
    for (; j < n; j += 8) {
        ptrdiff_t count = n - j < 8 ? n - j : 8;
        __m256 x[4];
        x[0] = x[1] = x[2] = x[3] = load_partial(src + j, count, 0);
        gelu8x4(x, approximate);
        store_partial(x[0], dst + j, count);
    }
}

#else

int vk_avx2_usable(void) { return 0; }
void vk_softmax_row_avx2(const float *src, float *dst, ptrdiff_t n) { (void)src; (void)dst; (void)n; }
void vk_gelu_avx2(const float *src, float *dst, ptrdiff_t n, int approximate) {
    (void)src; (void)dst; (void)n; (void)approximate;
}

#endif
