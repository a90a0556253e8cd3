# Cross-built copies of the device-side libraries (the runtime and the
# generator app), one per target triple, with the same clang as the host
# build: `--target=<triple>` and Debian's cross C/C++ libraries
# (utils/setup.sh installs them). A triple whose cross libraries are absent
# is skipped with a message, and its tests skip too.
#
# They are built without the host configuration's sanitizers and fuzzer
# instrumentation (Debian ships those runtimes for x86 only): what runs
# under qemu is the code a device runs.

set(TLMC_CROSS_TARGETS_REQUESTED "aarch64-linux-gnu;riscv64-linux-gnu"
    CACHE STRING "Triples to cross-build the runtime for")
if(NOT DEFINED TLMC_CROSS_TARGETS)
  set(TLMC_CROSS_TARGETS "")
  foreach(triple ${TLMC_CROSS_TARGETS_REQUESTED})
    if(EXISTS /usr/${triple}/include/c++ AND EXISTS /usr/lib/gcc-cross/${triple})
      list(APPEND TLMC_CROSS_TARGETS ${triple})
    else()
      message(STATUS "cross runtime for ${triple}: absent (utils/setup.sh "
                     "installs its C/C++ libraries)")
    endif()
  endforeach()
  message(STATUS "cross runtimes: ${TLMC_CROSS_TARGETS}")
endif()

# tlmc_add_cross_library(<name> <triple> <C|CXX> sources...) builds
# lib/<triple>/lib<name>.a.
function(tlmc_add_cross_library name triple language)
  set(target ${name}-${triple})
  add_library(${target} STATIC ${ARGN})
  set(options --target=${triple} -fPIC -ffunction-sections -fdata-sections)
  if(language STREQUAL "CXX")
    list(APPEND options -fno-exceptions -fno-rtti -std=gnu++17)
  else()
    list(APPEND options -std=gnu11)
  endif()
  # Replace (not extend) what the directory's options gave the target.
  set_target_properties(${target} PROPERTIES
    COMPILE_OPTIONS "${options}"
    INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR};${PROJECT_BINARY_DIR};${PROJECT_SOURCE_DIR}/runtime/include"
    COMPILE_DEFINITIONS ""
    OUTPUT_NAME ${name}
    ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib/${triple})
  add_dependencies(${target} TLMWSchema)
endfunction()
