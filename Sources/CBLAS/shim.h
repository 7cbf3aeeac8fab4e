// OpenBLAS's cblas.h (Debian: libopenblas-dev) also declares openblas_get_config & co.
#include <cblas.h>
