# Helpers modelled on absl_cc_library: one static library per module, one test binary per
# module (link steps are the bottleneck on 2 cores).

add_library(mixtera_warnings INTERFACE)
target_compile_options(mixtera_warnings INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
  -Wno-missing-field-initializers)
if(MIXTERA_WERROR)
  target_compile_options(mixtera_warnings INTERFACE -Werror)
endif()

# mixtera_cc_library(NAME store SRCS a.cc b.cc DEPS mixtera::base LIBS third_party_target)
function(mixtera_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LIBS" ${ARGN})
  add_library(mixtera_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(mixtera::${ARG_NAME} ALIAS mixtera_${ARG_NAME})
  target_include_directories(mixtera_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                                        ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(mixtera_${ARG_NAME} PUBLIC ${ARG_DEPS} ${ARG_LIBS}
                                            PRIVATE mixtera_warnings)
endfunction()

# mixtera_cc_test(NAME store_test SRCS a_test.cc DEPS mixtera::store [LABELS fast])
function(mixtera_cc_test)
  if(NOT MIXTERA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} mixtera::testing GTest::gtest_main
                                            GTest::gmock mixtera_warnings)
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  # One label per test binary (gtest_discover_tests splits a list): `fast` (the default) puts
  # it in the inner loop (`ctest -L fast`, `make test-fast`); name another for tests that
  # take longer.
  if(NOT ARG_LABELS)
    set(ARG_LABELS fast)
  endif()
  gtest_discover_tests(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
