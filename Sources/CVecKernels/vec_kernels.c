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

/* erfc8 of VectorMath.swift, operation for operation: erfc(u) of u[0…3] ≥ 0 into c[0…3]. */
AVX2 static inline void erfc8x4(const __m256 u[4], __m256 c[4]) {
    __m256 t[4], p[4];
    EACH t[k] = _mm256_div_ps(splat(1.0f), add(splat(1.0f), mul(splat(0.5f), u[k])));
    EACH p[k] = sub(mul(splat(0.17087277f), t[k]), splat(0.82215223f));
    EACH p[k] = add(mul(p[k], t[k]), splat(1.48851587f));
    EACH p[k] = sub(mul(p[k], t[k]), splat(1.13520398f));
    EACH p[k] = add(mul(p[k], t[k]), splat(0.27886807f));
    EACH p[k] = sub(mul(p[k], t[k]), splat(0.18628806f));
    EACH p[k] = add(mul(p[k], t[k]), splat(0.09678418f));
    EACH p[k] = add(mul(p[k], t[k]), splat(0.37409196f));
    EACH p[k] = add(mul(p[k], t[k]), splat(1.00002368f));
    EACH p[k] = sub(mul(p[k], t[k]), splat(1.26551223f));
    EACH c[k] = sub(p[k], mul(u[k], u[k]));
    exp8x4(c);
    EACH c[k] = mul(t[k], c[k]);
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
    __m256 z[4];
    EACH z[k] = pick(zero, x[k], _mm256_cmp_ps(x[k], zero, _CMP_GT_OQ));
    EACH z[k] = mul(pick(z[k], sub(zero, x[k]), _mm256_cmp_ps(x[k], zero, _CMP_LT_OQ)), splat(0.707106781186547524f));
    erfc8x4(z, a);
    EACH {
        __m256 e = a[k];
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

/* erf8 of ErfVectorExp.swift, operation for operation, on x[0…3] in place. */
AVX2 static inline void erf8x4(__m256 x[4]) {
    const __m256 zero = _mm256_setzero_ps(), sign = splat(-0.0f);
    __m256 ax[4], z[4], s[4], e[4];
    EACH ax[k] = pick(x[k], _mm256_xor_ps(x[k], sign), _mm256_cmp_ps(x[k], zero, _CMP_LT_OQ));
    EACH z[k] = mul(ax[k], ax[k]);
    EACH s[k] = add(mul(splat(-1.0f / 75600.0f), z[k]), splat(1.0f / 9360.0f));
    EACH s[k] = sub(mul(s[k], z[k]), splat(1.0f / 1320.0f));
    EACH s[k] = add(mul(s[k], z[k]), splat(1.0f / 216.0f));
    EACH s[k] = sub(mul(s[k], z[k]), splat(1.0f / 42.0f));
    EACH s[k] = add(mul(s[k], z[k]), splat(0.1f));
    EACH s[k] = sub(mul(s[k], z[k]), splat(1.0f / 3.0f));
    EACH s[k] = add(mul(s[k], z[k]), splat(1.0f));
    EACH s[k] = mul(x[k], mul(splat(1.12837916709551257f), s[k]));
    erfc8x4(ax, e);
    EACH {
        __m256 c = e[k];
        __m256 large = pick(sub(splat(1.0f), c), sub(c, splat(1.0f)), _mm256_cmp_ps(x[k], zero, _CMP_LT_OQ));
        x[k] = pick(large, s[k], _mm256_cmp_ps(ax[k], splat(0.5f), _CMP_LT_OQ));
    }
}

AVX2 void vk_erf_avx2(const float *src, float *dst, ptrdiff_t n) {
    ptrdiff_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 x[4];
        EACH x[k] = _mm256_loadu_ps(src + j + 8 * k);
        erf8x4(x);
        EACH _mm256_storeu_ps(dst + j + 8 * k, x[k]);
    }
    for (; j < n; j += 8) {
        ptrdiff_t count = n - j < 8 ? n - j : 8;
        __m256 x[4];
        x[0] = x[1] = x[2] = x[3] = load_partial(src + j, count, 0);
        erf8x4(x);
        store_partial(x[0], dst + j, count);
    }
}

/* An 8×8 transpose: afterwards r[j] lane k holds what r[k] lane j held (data movement only). */
AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t[8], s[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        s[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        s[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        s[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        s[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; k++) {
        r[k] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x20);
        r[k + 4] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x31);
    }
}

/* Taps of eight grid points (16 floats, x y interleaved) as eight structs in r[0…7], with
   GridSampleBilinearZeros.swift's operations: unnormalizeGrid, then floor (rounded(.down)), the
   fractional parts and the tap offsets. An index converts exactly (|floor| < 2³¹) or to
   INT32_MIN (outside, NaN), which like saturatingIndex's values lies outside the image. */
AVX2 static inline void taps8(const float *g, __m256i w, __m256i h, __m256i zero, __m256 fw, __m256 fh, int align,
                               __m256 r[8]) {
    const __m256 one = splat(1.0f), two = splat(2.0f);
    __m256 a = _mm256_loadu_ps(g), b = _mm256_loadu_ps(g + 8);
    __m256 gx = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), gy = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    gx = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(gx), _MM_SHUFFLE(3, 1, 2, 0)));
    gy = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(gy), _MM_SHUFFLE(3, 1, 2, 0)));
    /* fw, fh are Float(w − 1), Float(h − 1) with align_corners, else Float(w), Float(h). */
    __m256 fx = align ? mul(_mm256_div_ps(add(gx, one), two), fw) : _mm256_div_ps(sub(mul(add(gx, one), fw), one), two);
    __m256 fy = align ? mul(_mm256_div_ps(add(gy, one), two), fh) : _mm256_div_ps(sub(mul(add(gy, one), fh), one), two);
    __m256 x0 = _mm256_round_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m256 y0 = _mm256_round_ps(fy, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m256 tx = sub(fx, x0), ty = sub(fy, y0);
    const __m256i minus1 = _mm256_set1_epi32(-1), unit = _mm256_set1_epi32(1);
    __m256i xi = _mm256_cvttps_epi32(x0), yi = _mm256_cvttps_epi32(y0);
    __m256i xj = _mm256_add_epi32(xi, unit), yj = _mm256_add_epi32(yi, unit);
#define INSIDE(i, n) _mm256_and_si256(_mm256_cmpgt_epi32(i, minus1), _mm256_cmpgt_epi32(n, i))
    __m256i inx0 = INSIDE(xi, w), inx1 = INSIDE(xj, w), iny0 = INSIDE(yi, h), iny1 = INSIDE(yj, h);
#undef INSIDE
    __m256i row0 = _mm256_mullo_epi32(yi, w), row1 = _mm256_add_epi32(row0, w);
#define TAP(row, inRow, x, inX) _mm256_castsi256_ps(_mm256_blendv_epi8(zero, _mm256_add_epi32(row, x), _mm256_and_si256(inRow, inX)))
    r[0] = TAP(row0, iny0, xi, inx0);
    r[1] = TAP(row0, iny0, xj, inx1);
    r[2] = TAP(row1, iny1, xi, inx0);
    r[3] = TAP(row1, iny1, xj, inx1);
#undef TAP
    r[4] = tx;
    r[5] = ty;
    r[6] = sub(one, tx);
    r[7] = sub(one, ty);
    transpose8(r);
}

AVX2 void vk_bilinear_taps_avx2(const float *grid, ptrdiff_t count, int32_t w, int32_t h, int align_corners,
                                vk_bilinear_taps *taps) {
    const __m256i wv = _mm256_set1_epi32(w), hv = _mm256_set1_epi32(h), zero = _mm256_set1_epi32(w * h);
    const __m256 fw = splat((float)(align_corners ? w - 1 : w)), fh = splat((float)(align_corners ? h - 1 : h));
    __m256 r[8];
    ptrdiff_t l = 0;
    for (; l + 8 <= count; l += 8) {
        taps8(grid + 2 * l, wv, hv, zero, fw, fh, align_corners, r);
        for (int k = 0; k < 8; k++) _mm256_storeu_ps((float *)(taps + l + k), r[k]);
    }
    if (l < count) {
        float g[16] = {0};
        for (ptrdiff_t i = 0; i < 2 * (count - l); i++) g[i] = grid[2 * l + i];
        taps8(g, wv, hv, zero, fw, fh, align_corners, r);
        for (ptrdiff_t k = 0; k < count - l; k++) _mm256_storeu_ps((float *)(taps + l + k), r[k]);
    }
}

AVX2 void vk_interleave8_avx2(const float *src, ptrdiff_t stride, int lanes, ptrdiff_t hw, float *dst) {
    __m256 r[8];
    ptrdiff_t p = 0;
    for (; p + 8 <= hw; p += 8) {
        for (int j = 0; j < 8; j++) r[j] = j < lanes ? _mm256_loadu_ps(src + j * stride + p) : _mm256_setzero_ps();
        transpose8(r);
        for (int k = 0; k < 8; k++) _mm256_storeu_ps(dst + (p + k) * 8, r[k]);
    }
    for (; p < hw; p++)
        for (int j = 0; j < 8; j++) dst[p * 8 + j] = j < lanes ? src[j * stride + p] : 0.0f;
    _mm256_storeu_ps(dst + hw * 8, _mm256_setzero_ps());
}

/* One location's eight channels: the Swift path's (1−tx)·p00 + tx·p01 per row, then the rows
   weighted by 1 − ty and ty, in that order. */
AVX2 static inline __m256 bilinear8(const float *pixels, const vk_bilinear_taps *t) {
    const __m256 tx = splat(t->tx), ux = splat(t->ux), ty = splat(t->ty), uy = splat(t->uy);
    __m256 top = add(mul(ux, _mm256_loadu_ps(pixels + 8 * (ptrdiff_t)t->i00)),
                     mul(tx, _mm256_loadu_ps(pixels + 8 * (ptrdiff_t)t->i01)));
    __m256 bottom = add(mul(ux, _mm256_loadu_ps(pixels + 8 * (ptrdiff_t)t->i10)),
                        mul(tx, _mm256_loadu_ps(pixels + 8 * (ptrdiff_t)t->i11)));
    return add(mul(uy, top), mul(ty, bottom));
}

/* Eight locations × eight channels are computed per step and transposed, so each channel's
   eight outputs go out as one contiguous store. */
AVX2 void vk_bilinear_gather_avx2(const float *pixels, const vk_bilinear_taps *taps, ptrdiff_t count, int lanes,
                                  float *dst, ptrdiff_t plane) {
    __m256 v[8];
    ptrdiff_t l = 0;
    for (; l + 8 <= count; l += 8) {
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++) v[k] = bilinear8(pixels, taps + l + k);
        transpose8(v);
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++)
            if (j < lanes) _mm256_storeu_ps(dst + j * plane + l, v[j]);
    }
    if (l < count) {
        for (int k = 0; k < 8; k++) v[k] = l + k < count ? bilinear8(pixels, taps + l + k) : _mm256_setzero_ps();
        transpose8(v);
        for (int j = 0; j < lanes; j++) store_partial(v[j], dst + j * plane + l, count - l);
    }
}

/* The weighted sum of one row's `points` samples (eight channels), as eight floats. */
AVX2 static inline __m256 weighted_sum8(const float *pixels, const vk_bilinear_taps *taps, const float *weights,
                                        ptrdiff_t points) {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (ptrdiff_t p = 0; p < points; p++) {
        __m256 product = mul(bilinear8(pixels, taps + p), splat(weights[p]));
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(product)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(product, 1)));
    }
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* Eight rows × eight channels per step, transposed so each channel's eight sums go out as one
   contiguous store. */
AVX2 void vk_bilinear_weighted_sum_avx2(const float *pixels, const vk_bilinear_taps *taps, const float *weights,
                                        ptrdiff_t rows, ptrdiff_t points, int lanes, float *dst, ptrdiff_t plane) {
    __m256 v[8];
    ptrdiff_t r = 0;
    for (; r + 8 <= rows; r += 8) {
        for (int k = 0; k < 8; k++) v[k] = weighted_sum8(pixels, taps + (r + k) * points, weights + (r + k) * points, points);
        transpose8(v);
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++)
            if (j < lanes) _mm256_storeu_ps(dst + j * plane + r, v[j]);
    }
    if (r < rows) {
        for (int k = 0; k < 8; k++)
            v[k] = r + k < rows ? weighted_sum8(pixels, taps + (r + k) * points, weights + (r + k) * points, points)
                                : _mm256_setzero_ps();
        transpose8(v);
        for (int j = 0; j < lanes; j++) store_partial(v[j], dst + j * plane + r, rows - r);
    }
}

/* ---- float16 conversions (F16C) ---- */

int vk_f16c_usable(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28)) || !(c & (1u << 29))) return 0; /* OSXSAVE, AVX, F16C */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u; /* XMM and YMM state enabled by the OS */
}

#define F16C __attribute__((target("avx2,f16c")))

/* float16ToFloat of Tensor.swift for a NaN: sign, all-ones exponent, the payload shifted up
   (a signalling NaN stays signalling, where the instruction would set the quiet bit). */
static inline uint32_t half_nan_to_float_bits(uint16_t h) {
    return ((uint32_t)(h & 0x8000u) << 16) | 0x7f800000u | ((uint32_t)(h & 0x3ffu) << 13);
}

F16C void vk_half_to_float_f16c(const uint16_t *src, float *dst, ptrdiff_t n) {
    ptrdiff_t j = 0;
    const __m128i exponent = _mm_set1_epi16(0x7c00), payload = _mm_set1_epi16(0x03ff), zero = _mm_setzero_si128();
    for (; j + 8 <= n; j += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + j));
        _mm256_storeu_ps(dst + j, _mm256_cvtph_ps(h));
        /* A NaN has the whole exponent and a payload; its lanes are redone as Swift does. */
        __m128i nan = _mm_andnot_si128(_mm_cmpeq_epi16(_mm_and_si128(h, payload), zero),
                                       _mm_cmpeq_epi16(_mm_and_si128(h, exponent), exponent));
        if (_mm_movemask_epi8(nan)) {
            for (int k = 0; k < 8; k++) {
                uint16_t v = src[j + k];
                if ((v & 0x7c00u) == 0x7c00u && (v & 0x3ffu)) {
                    uint32_t bits = half_nan_to_float_bits(v);
                    __builtin_memcpy(dst + j + k, &bits, 4);
                }
            }
        }
    }
    for (; j < n; j++) {
        uint16_t v = src[j];
        if ((v & 0x7c00u) == 0x7c00u && (v & 0x3ffu)) {
            uint32_t bits = half_nan_to_float_bits(v);
            __builtin_memcpy(dst + j, &bits, 4);
        } else {
            __m128i h = _mm_cvtsi32_si128(v);
            dst[j] = _mm_cvtss_f32(_mm_cvtph_ps(h));
        }
    }
}

/* floatToFloat16 of Tensor.swift for a NaN: sign and the one quiet NaN (no payload). */
static inline uint16_t float_nan_to_half(float f) {
    uint32_t x;
    __builtin_memcpy(&x, &f, 4);
    return (uint16_t)(((x >> 16) & 0x8000u) | 0x7e00u);
}

F16C void vk_float_to_half_f16c(const float *src, uint16_t *dst, ptrdiff_t n) {
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_loadu_ps(src + j);
        _mm_storeu_si128((__m128i *)(dst + j), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) {
            for (int k = 0; k < 8; k++)
                if (src[j + k] != src[j + k]) dst[j + k] = float_nan_to_half(src[j + k]);
        }
    }
    for (; j < n; j++) {
        float f = src[j];
        if (f != f) {
            dst[j] = float_nan_to_half(f);
        } else {
            __m128i h = _mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            dst[j] = (uint16_t)_mm_extract_epi16(h, 0);
        }
    }
}

/* ---- QuantizeLinear / DequantizeLinear, 8-bit ---- */

/* One element as quantizeLinearReference computes it (float32 x, 8-bit output). */
static inline int32_t quantize_one(float x, float scale, float zero, float lo, float hi) {
    float r = __builtin_rintf(x / scale) + zero;
    if (r != r) return (int32_t)lo;
    return (int32_t)(r < lo ? lo : (r > hi ? hi : r));
}

AVX2 void vk_quantize8_avx2(const float *x, ptrdiff_t n, const float *scale, const float *zero, ptrdiff_t step,
                            float lo, float hi, int is_signed, void *dst) {
    uint8_t *u = (uint8_t *)dst;
    ptrdiff_t j = 0;
    const __m256 vlo = splat(lo), vhi = splat(hi);
    for (; j + 8 <= n; j += 8) {
        __m256 s = step ? _mm256_loadu_ps(scale + j) : splat(scale[0]);
        __m256 z = step ? _mm256_loadu_ps(zero + j) : splat(zero[0]);
        __m256 r = add(_mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + j), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
        /* max(r, lo) then min(·, hi): the scalar clamp; maxps returns its second operand, lo,
           where r is NaN, which is the scalar NaN rule. */
        r = _mm256_min_ps(_mm256_max_ps(r, vlo), vhi);
        __m256i i32 = _mm256_cvtps_epi32(r); /* integral and within [-128, 255]: exact */
        __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
        __m128i i8 = is_signed ? _mm_packs_epi16(i16, i16) : _mm_packus_epi16(i16, i16);
        _mm_storel_epi64((__m128i *)(u + j), i8);
    }
    for (; j < n; j++) {
        int32_t q = quantize_one(x[j], scale[step ? j : 0], zero[step ? j : 0], lo, hi);
        u[j] = (uint8_t)q;
    }
}

AVX2 void vk_dequantize8_avx2(const void *q, int is_signed, ptrdiff_t n, const float *scale, const int32_t *zero,
                              ptrdiff_t step, float *dst) {
    const uint8_t *u = (const uint8_t *)q;
    const int8_t *s8 = (const int8_t *)q;
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m128i bytes = _mm_loadl_epi64((const __m128i *)(u + j));
        __m256i v = is_signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
        __m256i z = step ? _mm256_loadu_si256((const __m256i *)(zero + j)) : _mm256_set1_epi32(zero[0]);
        __m256 s = step ? _mm256_loadu_ps(scale + j) : splat(scale[0]);
        _mm256_storeu_ps(dst + j, mul(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, z)), s));
    }
    for (; j < n; j++) {
        int32_t v = is_signed ? (int32_t)s8[j] : (int32_t)u[j];
        dst[j] = (float)(v - zero[step ? j : 0]) * scale[step ? j : 0];
    }
}

#else

int vk_avx2_usable(void) { return 0; }
int vk_f16c_usable(void) { return 0; }
void vk_quantize8_avx2(const float *x, ptrdiff_t n, const float *scale, const float *zero, ptrdiff_t step,
                       float lo, float hi, int is_signed, void *dst) {
    (void)x; (void)n; (void)scale; (void)zero; (void)step; (void)lo; (void)hi; (void)is_signed; (void)dst;
}
void vk_dequantize8_avx2(const void *q, int is_signed, ptrdiff_t n, const float *scale, const int32_t *zero,
                         ptrdiff_t step, float *dst) {
    (void)q; (void)is_signed; (void)n; (void)scale; (void)zero; (void)step; (void)dst;
}
void vk_half_to_float_f16c(const uint16_t *src, float *dst, ptrdiff_t n) { (void)src; (void)dst; (void)n; }
void vk_float_to_half_f16c(const float *src, uint16_t *dst, ptrdiff_t n) { (void)src; (void)dst; (void)n; }
void vk_erf_avx2(const float *src, float *dst, ptrdiff_t n) { (void)src; (void)dst; (void)n; }
void vk_softmax_row_avx2(const float *src, float *dst, ptrdiff_t n) { (void)src; (void)dst; (void)n; }
void vk_gelu_avx2(const float *src, float *dst, ptrdiff_t n, int approximate) {
    (void)src; (void)dst; (void)n; (void)approximate;
}
void vk_bilinear_taps_avx2(const float *grid, ptrdiff_t count, int32_t w, int32_t h, int align_corners,
                           vk_bilinear_taps *taps) {
    (void)grid; (void)count; (void)w; (void)h; (void)align_corners; (void)taps;
}
void vk_interleave8_avx2(const float *src, ptrdiff_t stride, int lanes, ptrdiff_t hw, float *dst) {
    (void)src; (void)stride; (void)lanes; (void)hw; (void)dst;
}
void vk_bilinear_gather_avx2(const float *pixels, const vk_bilinear_taps *taps, ptrdiff_t count, int lanes,
                             float *dst, ptrdiff_t plane) {
    (void)pixels; (void)taps; (void)count; (void)lanes; (void)dst; (void)plane;
}
void vk_bilinear_weighted_sum_avx2(const float *pixels, const vk_bilinear_taps *taps, const float *weights,
                                   ptrdiff_t rows, ptrdiff_t points, int lanes, float *dst, ptrdiff_t plane) {
    (void)pixels; (void)taps; (void)weights; (void)rows; (void)points; (void)lanes; (void)dst; (void)plane;
}

#endif
