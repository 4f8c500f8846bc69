# Third-party libraries as imported targets. Each is linked by exactly one module
# (DESIGN.md §2); nothing is downloaded here: `make setup` (tools/setup.sh) installs them.

set(MIXTERA_DUCKDB_ROOT ${PROJECT_SOURCE_DIR}/third_party/duckdb CACHE PATH "DuckDB 1.4.4 (lib/ + include/)")
if(NOT EXISTS ${MIXTERA_DUCKDB_ROOT}/lib/libduckdb.so OR NOT EXISTS ${MIXTERA_DUCKDB_ROOT}/include/duckdb.h)
  message(FATAL_ERROR "DuckDB not found under ${MIXTERA_DUCKDB_ROOT}: run `make setup` first")
endif()
add_library(duckdb_c SHARED IMPORTED)
set_target_properties(duckdb_c PROPERTIES
  IMPORTED_LOCATION ${MIXTERA_DUCKDB_ROOT}/lib/libduckdb.so
  IMPORTED_NO_SONAME OFF
  INTERFACE_INCLUDE_DIRECTORIES ${MIXTERA_DUCKDB_ROOT}/include)
# Executables and the Python module find libduckdb.so next to the build tree.
set(CMAKE_BUILD_RPATH ${MIXTERA_DUCKDB_ROOT}/lib)

find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(zstd CONFIG REQUIRED)
find_package(LibLZMA REQUIRED)
find_package(BZip2 REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# L-BFGS-B 3.0 (Debian liblbfgsb-dev: the Fortran code SciPy wraps) for ADO's scaling-law fits.
find_library(LBFGSB_LIBRARY NAMES lbfgsb REQUIRED)
add_library(lbfgsb UNKNOWN IMPORTED)
set_target_properties(lbfgsb PROPERTIES IMPORTED_LOCATION ${LBFGSB_LIBRARY})
if(MIXTERA_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(MIXTERA_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG REQUIRED)
endif()
if(MIXTERA_BUILD_PYTHON)
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
  find_package(pybind11 CONFIG REQUIRED)
else()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()
