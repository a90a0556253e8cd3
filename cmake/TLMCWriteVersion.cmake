#===- TLMCWriteVersion.cmake - write tlmc_version.h at build time ----------===#
#
# Run with cmake -P on every build (target tlmc_version), so `tlmc --version`,
# generated headers and containers name the revision that was built, not the
# one the build directory was configured at. Rewrites the header only when its
# text changes, so an unchanged revision recompiles nothing.
#
# In: TLMC_SOURCE_DIR, TLMC_VERSION, TLMC_VERSION_HEADER.
#
#===----------------------------------------------------------------------===#

execute_process(COMMAND git rev-parse --short HEAD
                WORKING_DIRECTORY ${TLMC_SOURCE_DIR}
                OUTPUT_VARIABLE revision
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT revision)
  set(revision "unknown revision")
endif()
set(text "#define TLMC_VERSION \"${TLMC_VERSION}\"\n#define TLMC_GIT_REVISION \"${revision}\"\n")
if(EXISTS "${TLMC_VERSION_HEADER}")
  file(READ "${TLMC_VERSION_HEADER}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${TLMC_VERSION_HEADER}" "${text}")
