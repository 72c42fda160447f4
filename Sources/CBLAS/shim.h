#include <cblas.h>

/* LAPACK's divide-and-conquer SVD (OpenBLAS exports the Fortran symbol; Debian ships no
   lapack.h next to OpenBLAS's cblas.h). All arguments by reference, column-major. */
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work,
             const int *lwork, int *iwork, int *info);
