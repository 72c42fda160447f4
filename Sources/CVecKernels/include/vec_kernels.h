#ifndef VITEXPORT_VEC_KERNELS_H
#define VITEXPORT_VEC_KERNELS_H

/* Eight-lane AVX2 versions of the interpreter's portable Softmax, Gelu and Erf kernels
   (VitInterp/FastPaths/SoftmaxVectorExp.swift, GeluVectorExp.swift, ErfVectorExp.swift) and of the bilinear,
   zeros-padding GridSample fast path's steps (GridSampleBilinearZeros.swift). Each performs the same
   IEEE operations in the same order as the Swift code (no FMA, no reassociation), so its
   results equal the portable kernel's bit for bit; FastPathTests pins that. Call them only
   when vk_avx2_usable() returns 1. Also float16 ⇄ float32 conversions with F16C, equal to
   VitIR's scalar ones (HalfConversionTests). */

#include <stddef.h>
#include <stdint.h>

/* 1 when the CPU has AVX2 and the OS saves the YMM registers, else 0 (always 0 off x86-64). */
int vk_avx2_usable(void);

/* Softmax of one contiguous row of n > 0 floats; dst may equal src. */
void vk_softmax_row_avx2(const float *src, float *dst, ptrdiff_t n);

/* Erf of n floats. */
void vk_erf_avx2(const float *src, float *dst, ptrdiff_t n);

/* Gelu of n floats: approximate 0 is the erf form, 1 the tanh form. */
void vk_gelu_avx2(const float *src, float *dst, ptrdiff_t n, int approximate);

/* One GridSample output location's bilinear taps: offsets of the four pixels into an image
   plane of h·w pixels (h·w itself, the index of an appended zero pixel, for a tap outside the
   image), the fractional parts tx, ty and ux = 1 − tx, uy = 1 − ty. 32 bytes. */
typedef struct {
    int32_t i00, i01, i10, i11;
    float tx, ty, ux, uy;
} vk_bilinear_taps;

/* Taps of `count` grid points (x, y pairs in [-1, 1]) on an image of w × h pixels, h·w < 2³¹ − 1. */
void vk_bilinear_taps_avx2(const float *grid, ptrdiff_t count, int32_t w, int32_t h, int align_corners,
                           vk_bilinear_taps *taps);

/* Copies `lanes` ≤ 8 image planes of hw pixels, plane j at src + j·stride, channel-interleaved
   to dst[(hw + 1)][8]: dst[p·8 + j] = plane j's pixel p, 0 in lanes ≥ `lanes` and in pixel hw. */
void vk_interleave8_avx2(const float *src, ptrdiff_t stride, int lanes, ptrdiff_t hw, float *dst);

/* Bilinear samples of an interleaved 8-channel image (vk_interleave8_avx2's layout) at `count`
   locations: channel j < lanes of location l goes to dst[j·plane + l]. */
void vk_bilinear_gather_avx2(const float *pixels, const vk_bilinear_taps *taps, ptrdiff_t count, int lanes,
                             float *dst, ptrdiff_t plane);

/* Weighted sums of bilinear samples: for each of `rows` rows of `points` locations (taps and
   weights row-major), channel j < lanes gets Σ_p (sample · weight), each product rounded to
   float and summed in double in point order from 0.0, rounded to float into dst[j·plane + row]. */
void vk_bilinear_weighted_sum_avx2(const float *pixels, const vk_bilinear_taps *taps, const float *weights,
                                   ptrdiff_t rows, ptrdiff_t points, int lanes, float *dst, ptrdiff_t plane);

/* 1 when the CPU has F16C (and AVX) and the OS saves the YMM registers, else 0. */
int vk_f16c_usable(void);

/* IEEE half to float, exact; a NaN keeps its payload and its signalling bit (VitIR's
   float16ToFloat bit for bit). Call only when vk_f16c_usable() returns 1. */
void vk_half_to_float_f16c(const uint16_t *src, float *dst, ptrdiff_t n);

/* Float to IEEE half, round to nearest even; a NaN becomes the quiet NaN 0x7e00 with its sign
   (VitIR's floatToFloat16 bit for bit). Call only when vk_f16c_usable() returns 1. */
void vk_float_to_half_f16c(const float *src, uint16_t *dst, ptrdiff_t n);

/* QuantizeLinear of n floats to int8 (is_signed) or uint8 at dst: saturate(rint(x / scale) +
   zero) clamped to [lo, hi], NaN to lo; scale and zero one value (step 0) or one per element
   (step 1). The arithmetic of quantizeLinearReference (Kernels/Quantize.swift), bit for bit. */
void vk_quantize8_avx2(const float *x, ptrdiff_t n, const float *scale, const float *zero, ptrdiff_t step,
                       float lo, float hi, int is_signed, void *dst);

/* DequantizeLinear of n int8 (is_signed) or uint8 values: (q − zero) · scale in float, scale and
   zero one value (step 0) or one per element (step 1); dequantizeLinearReference's bits. */
void vk_dequantize8_avx2(const void *q, int is_signed, ptrdiff_t n, const float *scale, const int32_t *zero,
                         ptrdiff_t step, float *dst);

#endif
