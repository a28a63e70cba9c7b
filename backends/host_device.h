#pragma once
// EMBER_HOST_DEVICE marks a function that both backends compile: a CUDA __host__ __device__
// function under nvcc, a plain inline function for the C++ compiler. The formulas of
// elementwise_formulas.h, fast_math.h and integer_math.h use it, so each is written once.
#ifdef __CUDACC__
#define EMBER_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define EMBER_HOST_DEVICE inline
#endif
