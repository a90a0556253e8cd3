# tlmc_add_model(<name> MODEL <file>
#                [TOKENIZER <file>] [TARGET <triple>] [CPU <cpu>]
#                [EMBED_WEIGHTS] [OPTIONS <tlmc compile flags>...])
#
# Compiles MODEL with tlmc when the project builds (again whenever the model
# file or tlmc changes) into <name>.o, <name>.h and, unless EMBED_WEIGHTS,
# <name>.tlmw in the current binary directory, and makes a library target
# <name> of the object. Linking it brings the runtime (tlmc::runtime) and
# the header's directory: `#include "<name>.h"` declares `<name>_model`.
# The container's path is the target's TLMC_CONTAINER property.
# OPTIONS go to `tlmc compile` as they are (e.g. --quantize=int8).

function(tlmc_add_model name)
  cmake_parse_arguments(ARG "EMBED_WEIGHTS" "MODEL;TOKENIZER;TARGET;CPU"
                        "OPTIONS" ${ARGN})
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "tlmc_add_model(${name}): MODEL <file> is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "tlmc_add_model(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  set(args compile "${model}" -o "${out}")
  set(outputs "${out}.o" "${out}.h")
  set(depends "${model}" "${TLMC_EXECUTABLE}")
  if(ARG_TOKENIZER)
    get_filename_component(tokenizer "${ARG_TOKENIZER}" ABSOLUTE)
    list(APPEND args --tokenizer "${tokenizer}")
    list(APPEND depends "${tokenizer}")
  endif()
  # A cross build (a toolchain file of the package) compiles for its
  # target unless TARGET says otherwise.
  if(NOT ARG_TARGET AND TLMC_TARGET_TRIPLE)
    set(ARG_TARGET "${TLMC_TARGET_TRIPLE}")
  endif()
  if(ARG_TARGET)
    list(APPEND args --target "${ARG_TARGET}")
  endif()
  if(ARG_CPU)
    list(APPEND args --mcpu "${ARG_CPU}")
  endif()
  if(ARG_EMBED_WEIGHTS)
    list(APPEND args --embed-weights)
  else()
    list(APPEND outputs "${out}.tlmw")
  endif()
  list(APPEND args ${ARG_OPTIONS})
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${TLMC_EXECUTABLE}" ${args}
    DEPENDS ${depends}
    COMMENT "tlmc: compiling ${ARG_MODEL} into ${name}.o"
    VERBATIM)
  set_source_files_properties("${out}.o" PROPERTIES
    EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${name} STATIC "${out}.o" "${out}.h")
  set_target_properties(${name} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${name} PUBLIC "${CMAKE_CURRENT_BINARY_DIR}")
  target_link_libraries(${name} PUBLIC tlmc::runtime)
  if(NOT ARG_EMBED_WEIGHTS)
    set_target_properties(${name} PROPERTIES TLMC_CONTAINER "${out}.tlmw")
  endif()
endfunction()
