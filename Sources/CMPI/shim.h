// Open MPI's C API (Debian: libopenmpi-dev; flags from pkg-config "ompi").
// MPI_COMM_WORLD, the datatypes and the operations are macros over addresses of library
// globals, which Swift cannot import; these inline functions hand them over as values.
#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
