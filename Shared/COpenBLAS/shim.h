// OpenBLAS's CBLAS (Debian: libopenblas-dev), for the matrix products of Ingest's embedded
// sentence-embedding model. Its cblas.h also declares openblas_set_num_threads.
#include <cblas.h>
