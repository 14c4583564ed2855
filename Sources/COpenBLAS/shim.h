#ifndef SEISMO_COPENBLAS_SHIM_H
#define SEISMO_COPENBLAS_SHIM_H
#include <cblas.h>

/* LAPACK routines that OpenBLAS exports (Fortran calling convention, column-major). */
void sgels_(const char *trans, const int *m, const int *n, const int *nrhs, float *a, const int *lda,
            float *b, const int *ldb, float *work, const int *lwork, int *info);
void dgels_(const char *trans, const int *m, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, double *work, const int *lwork, int *info);
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u,
             const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info);
#endif
