# The package other projects use: TLMCConfig.cmake for the build tree (paths
# into the build and the sources) and for `cmake --install` (paths relative
# to the installed file), a toolchain file per cross target, pkg-config
# files, and the install rules of the tools, libraries and headers.

# Build tree: <build>/TLMCConfig.cmake, <build>/toolchains/.
set(TLMC_CONFIG_PREFIX "set(_tlmc_prefix \"${PROJECT_BINARY_DIR}\")")
set(TLMC_CONFIG_INCLUDE_DIR "${PROJECT_SOURCE_DIR}/runtime/include")
set(TLMC_CONFIG_MODULE_DIR "${PROJECT_SOURCE_DIR}/cmake")
configure_file(cmake/TLMCConfig.cmake.in ${PROJECT_BINARY_DIR}/TLMCConfig.cmake
               @ONLY)

# Installed: <prefix>/lib/cmake/TLMC/.
set(TLMC_CONFIG_PREFIX
    "get_filename_component(_tlmc_prefix \"\${CMAKE_CURRENT_LIST_DIR}/../../..\" ABSOLUTE)")
set(TLMC_CONFIG_INCLUDE_DIR "\${_tlmc_prefix}/include")
set(TLMC_CONFIG_MODULE_DIR "\${CMAKE_CURRENT_LIST_DIR}")
configure_file(cmake/TLMCConfig.cmake.in
               ${PROJECT_BINARY_DIR}/install/TLMCConfig.cmake @ONLY)

foreach(triple ${TLMC_CROSS_TARGETS})
  string(REGEX REPLACE "-.*" "" TLMC_TOOLCHAIN_PROCESSOR ${triple})
  set(TLMC_TOOLCHAIN_TRIPLE ${triple})
  if(TLMC_TOOLCHAIN_PROCESSOR STREQUAL "aarch64")
    set(TLMC_TOOLCHAIN_DEBIAN_ARCH arm64)
    set(TLMC_TOOLCHAIN_EMULATOR "qemu-aarch64;-cpu;max")
  else()
    set(TLMC_TOOLCHAIN_DEBIAN_ARCH ${TLMC_TOOLCHAIN_PROCESSOR})
    set(TLMC_TOOLCHAIN_EMULATOR "qemu-${TLMC_TOOLCHAIN_PROCESSOR}")
  endif()
  configure_file(cmake/TLMCToolchain.cmake.in
                 ${PROJECT_BINARY_DIR}/toolchains/${triple}.cmake @ONLY)
  set(TLMC_PC_NAME tlmrt-${triple})
  set(TLMC_PC_LIBDIR lib/${triple})
  set(TLMC_PC_TRIPLE_NOTE "built for ${triple}")
  configure_file(cmake/tlmrt.pc.in
                 ${PROJECT_BINARY_DIR}/install/tlmrt-${triple}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/install/tlmrt-${triple}.pc
          DESTINATION lib/pkgconfig)
  install(FILES ${PROJECT_BINARY_DIR}/lib/${triple}/libtlmrt.a
                ${PROJECT_BINARY_DIR}/lib/${triple}/libtlm_generate.a
          DESTINATION lib/${triple})
endforeach()
set(TLMC_PC_NAME tlmrt)
set(TLMC_PC_LIBDIR lib)
set(TLMC_PC_TRIPLE_NOTE "for this machine")
configure_file(cmake/tlmrt.pc.in ${PROJECT_BINARY_DIR}/install/tlmrt.pc @ONLY)

install(TARGETS tlmc tlmc-opt RUNTIME DESTINATION bin)
install(FILES ${PROJECT_BINARY_DIR}/lib/libtlmrt.a
              ${PROJECT_BINARY_DIR}/lib/libtlm_generate.a
        DESTINATION lib)
install(FILES runtime/include/tlm/tlm.h runtime/include/tlm/container.h
        DESTINATION include/tlm)
install(FILES ${PROJECT_BINARY_DIR}/install/tlmrt.pc DESTINATION lib/pkgconfig)
install(FILES ${PROJECT_BINARY_DIR}/install/TLMCConfig.cmake
              cmake/TLMCAddModel.cmake
        DESTINATION lib/cmake/TLMC)
install(DIRECTORY ${PROJECT_BINARY_DIR}/toolchains
        DESTINATION lib/cmake/TLMC OPTIONAL)
