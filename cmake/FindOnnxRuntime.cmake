# Finds ONNX Runtime's C/C++ API.
# Looks in ONNXRUNTIME_ROOT (CMake or environment variable: an official release archive or any install with
# include/ and lib/), then in third_party/onnxruntime (what scripts/setup.sh extracts from npm), then the system.
# Defines the imported target OnnxRuntime::OnnxRuntime.
set(_ort_hints)
if(ONNXRUNTIME_ROOT)
  list(APPEND _ort_hints ${ONNXRUNTIME_ROOT})
endif()
if(DEFINED ENV{ONNXRUNTIME_ROOT})
  list(APPEND _ort_hints $ENV{ONNXRUNTIME_ROOT})
endif()
list(APPEND _ort_hints ${CMAKE_SOURCE_DIR}/third_party/onnxruntime)

find_path(OnnxRuntime_INCLUDE_DIR onnxruntime_cxx_api.h
  HINTS ${_ort_hints} PATH_SUFFIXES include include/onnxruntime include/onnxruntime/core/session)
find_library(OnnxRuntime_LIBRARY NAMES onnxruntime HINTS ${_ort_hints} PATH_SUFFIXES lib lib64)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OnnxRuntime
  REQUIRED_VARS OnnxRuntime_LIBRARY OnnxRuntime_INCLUDE_DIR
  FAIL_MESSAGE "ONNX Runtime not found: run scripts/setup.sh, or set ONNXRUNTIME_ROOT to an install with include/ and lib/")

if(OnnxRuntime_FOUND AND NOT TARGET OnnxRuntime::OnnxRuntime)
  add_library(OnnxRuntime::OnnxRuntime SHARED IMPORTED)
  set_target_properties(OnnxRuntime::OnnxRuntime PROPERTIES
    IMPORTED_LOCATION ${OnnxRuntime_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${OnnxRuntime_INCLUDE_DIR})
  get_filename_component(OnnxRuntime_LIBRARY_DIR ${OnnxRuntime_LIBRARY} DIRECTORY)
  # Executables find the library where it was found at build time, without LD_LIBRARY_PATH.
  set(CMAKE_BUILD_RPATH ${CMAKE_BUILD_RPATH} ${OnnxRuntime_LIBRARY_DIR})
  set(CMAKE_INSTALL_RPATH ${CMAKE_INSTALL_RPATH} ${OnnxRuntime_LIBRARY_DIR})
endif()
mark_as_advanced(OnnxRuntime_INCLUDE_DIR OnnxRuntime_LIBRARY)
