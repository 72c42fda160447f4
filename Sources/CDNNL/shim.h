#include <dnnl.h>

/* Debian's libdnnl 2.6 runs its parallel regions on GNU OpenMP (libgomp), which sizes them by
   the calling thread's nthreads ICV. omp.h is GCC's private header, so the two functions used
   are declared here (OpenMP 5.1, sections 3.2.1 and 3.2.3). */
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
