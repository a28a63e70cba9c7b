# `cmake --install build --prefix DIR` puts ember where another project can use it:
#   DIR/include/ember/{tensor,backends,autograd,nn,optim}/*.h   the engine's headers
#   DIR/lib/libember.a (and the CUDA kernel libraries where built)
#   DIR/lib/cmake/ember/   find_package(ember [COMPONENTS CUDA]) -> target ember::ember
#   DIR/lib/pkgconfig/ember.pc                                      pkg-config --cflags --libs ember
# examples/train_mlp/ is a project that builds against it (CI builds it).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

foreach(layer tensor backends autograd nn optim)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/${layer}/ DESTINATION include/ember/${layer}
          FILES_MATCHING PATTERN "*.h" PATTERN "cuda/*.h" EXCLUDE)
endforeach()
# The CUDA backend's host headers that the public ones include (device queries).
install(FILES ${CMAKE_SOURCE_DIR}/backends/cuda/cuda_device.h DESTINATION include/ember/backends/cuda)

set(EMBER_EXPORTED_TARGETS ember)
if(EMBER_HAVE_CUDA)
  list(APPEND EMBER_EXPORTED_TARGETS ember_cuda_kernels ember_cuda_sm90a)
endif()
install(TARGETS ${EMBER_EXPORTED_TARGETS} EXPORT emberTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT emberTargets NAMESPACE ember:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ember)

# What the package's config needs to find the same dependencies again.
set(EMBER_PACKAGE_HAVE_DNNL ${dnnl_FOUND})
set(EMBER_PACKAGE_HAVE_FFTW ${FFTW_FOUND})
set(EMBER_PACKAGE_HAVE_LAPACKE ${EMBER_HAVE_LAPACKE})
set(EMBER_PACKAGE_HAVE_CUDA ${EMBER_HAVE_CUDA})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/emberConfig.cmake.in
  ${CMAKE_BINARY_DIR}/emberConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ember)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/emberConfigVersion.cmake VERSION 0.1.0
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/emberConfig.cmake ${CMAKE_BINARY_DIR}/emberConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ember)

# pkg-config: the same flags spelled out (a static library lists its dependencies in Libs, after
# the ember libraries, which with CUDA refer to each other and are listed twice).
set(EMBER_PC_CFLAGS "-fopenmp")
set(EMBER_PC_LIBS "-lember")
set(EMBER_PC_DEPS "-fopenmp")
if(EMBER_HAVE_CUDA)
  find_package(CUDAToolkit REQUIRED)  # here too: the backend's find_package is in its own scope
  string(APPEND EMBER_PC_CFLAGS " -DEMBER_HAVE_CUDA=1")
  # The engine and its kernels refer to each other (registration, the allocator's fill): one
  # group, so the static linker rescans it until nothing new resolves.
  set(EMBER_PC_LIBS "-Wl,--start-group -lember -lember_cuda_kernels -lember_cuda_sm90a -Wl,--end-group")
  string(APPEND EMBER_PC_DEPS " -L${CUDAToolkit_LIBRARY_DIR} -lcublasLt -lcublas -lcufft -lcudart_static -ldl -lrt -lpthread")
endif()
if(dnnl_FOUND)
  string(APPEND EMBER_PC_CFLAGS " -DEMBER_HAVE_DNNL=1")
  string(APPEND EMBER_PC_DEPS " ${DNNL_LIBRARY}")
endif()
if(FFTW_FOUND)
  string(APPEND EMBER_PC_CFLAGS " -DEMBER_HAVE_FFTW=1")
  string(APPEND EMBER_PC_DEPS " -lfftw3 -lfftw3f")
endif()
if(EMBER_HAVE_LAPACKE)
  string(APPEND EMBER_PC_CFLAGS " -DEMBER_HAVE_LAPACKE=1")
  string(APPEND EMBER_PC_DEPS " ${LAPACKE_LIBRARY}")
  foreach(lib ${LAPACK_LIBRARIES})
    string(APPEND EMBER_PC_DEPS " ${lib}")
  endforeach()
endif()
string(APPEND EMBER_PC_LIBS " ${EMBER_PC_DEPS}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/ember.pc.in ${CMAKE_BINARY_DIR}/ember.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/ember.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
