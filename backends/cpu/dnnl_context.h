#pragma once
// The oneDNN CPU engine of the process, and a stream per calling thread. Primitives are bound
// to the engine they were created for, so every cached primitive shares this one; a CPU stream
// runs synchronously on the caller's OpenMP team, but streams are not documented as safe to
// share between threads, hence one per thread.
#ifdef EMBER_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>

namespace ember::cpu {

dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

}  // namespace ember::cpu
#endif
