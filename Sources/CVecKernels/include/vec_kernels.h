#ifndef VITEXPORT_VEC_KERNELS_H
#define VITEXPORT_VEC_KERNELS_H

/* Eight-lane AVX2 versions of the interpreter's portable Softmax and Gelu row kernels
   (VitInterp/FastPaths/SoftmaxVectorExp.swift, GeluVectorExp.swift). Each performs the same
   IEEE operations in the same order as the Swift code (no FMA, no reassociation), so its
   results equal the portable kernel's bit for bit; FastPathTests pins that. Call them only
   when vk_avx2_usable() returns 1. */

#include <stddef.h>

/* 1 when the CPU has AVX2 and the OS saves the YMM registers, else 0 (always 0 off x86-64). */
int vk_avx2_usable(void);

/* Softmax of one contiguous row of n > 0 floats; dst may equal src. */
void vk_softmax_row_avx2(const float *src, float *dst, ptrdiff_t n);

/* Gelu of n floats: approximate 0 is the erf form, 1 the tanh form. */
void vk_gelu_avx2(const float *src, float *dst, ptrdiff_t n, int approximate);

#endif
