// Kernels: BLAS-backed matrix products and the forward/backward operations of the models.
