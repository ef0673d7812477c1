# Install rules and the Debian package (docs/user-guide.md, "Installing").
#
#   cmake --install build --prefix /usr/local      the layout below
#   cpack --config build/CPackConfig.cmake          build/hwcov_<version>_amd64.deb
#
#   bin/hwcov
#   lib/hwcov/hwcov-qemu-plugin.so                 (CMAKE_INSTALL_LIBDIR/hwcov)
#   share/man/man1/hwcov.1.gz                      generated from hwcov's --help texts
#   share/doc/hwcov/                               README, licence, docs/*.md
include(GNUInstallDirs)

set(HWCOV_PLUGIN_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/hwcov")
install(TARGETS hwcov RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS hwcov_qemu_plugin LIBRARY DESTINATION "${HWCOV_PLUGIN_INSTALL_DIR}")

# The installed hwcov finds its plugin relative to its own executable, so a
# package or a --prefix install works wherever it lands (collector/emu/emu_launcher.cc).
file(RELATIVE_PATH HWCOV_PLUGIN_DIR_FROM_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}"
     "${CMAKE_INSTALL_FULL_LIBDIR}/hwcov")
target_compile_definitions(hwcov_collector_emu PRIVATE
  HWCOV_QEMU_PLUGIN_DIR_FROM_BINDIR="${HWCOV_PLUGIN_DIR_FROM_BINDIR}")

file(GLOB HWCOV_DOCS "${PROJECT_SOURCE_DIR}/docs/*.md")
install(FILES README.md LICENSE ${HWCOV_DOCS} DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# The man page: help2man over the built hwcov's own --help texts (the
# overview and every command's), so it cannot drift from the program.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(HWCOV_MANPAGE "${CMAKE_BINARY_DIR}/man/hwcov.1.gz")
  add_custom_command(OUTPUT "${HWCOV_MANPAGE}"
    COMMAND bash "${PROJECT_SOURCE_DIR}/tools/gen_manpage.sh" "$<TARGET_FILE:hwcov>" "${HWCOV_MANPAGE}"
    DEPENDS hwcov "${PROJECT_SOURCE_DIR}/tools/gen_manpage.sh"
    COMMENT "Generating the hwcov(1) man page from hwcov --help"
    VERBATIM)
  add_custom_target(hwcov_manpage ALL DEPENDS "${HWCOV_MANPAGE}")
  install(FILES "${HWCOV_MANPAGE}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
else()
  message(WARNING "help2man not found (tools/install-deps.sh): no man page is built or installed")
endif()

# The Debian package. Its Depends come from dpkg-shlibdeps over the installed
# binary and plugin (the Debian packages of the libraries they link: libipt2,
# libelf1, libdwarf1, libzydis4.0, libboost-program-options1.74.0, libstdc++6,
# libc6...); tools/package_test.sh checks them against dpkg -S.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hwcov)
set(CPACK_PACKAGE_VENDOR "hwcov")
set(CPACK_PACKAGE_CONTACT "hwcov maintainers <hwcov@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "code coverage from control-flow traces, without recompiling")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "code coverage from control-flow traces, without recompiling\n"
  " hwcov records a program's control flow (Intel Processor Trace, QEMU user mode\n"
  " or ptrace single-stepping), maps it to source lines, functions and branches\n"
  " through the binary's DWARF, and writes lcov, Cobertura XML, HTML and JSON.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qemu-user")  # the emu backend
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "lcov, gcovr")
set(CPACK_PACKAGE_FILE_NAME "hwcov_${PROJECT_VERSION}")
include(CPack)
