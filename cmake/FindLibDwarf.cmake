# Finds libdwarf. Debian 12 ships 20210528 (the "old" API) with its header under
# libdwarf/ and no pkg-config file. hwcov is written to that API; newer libdwarf
# (0.x) changed function signatures, so the version is exported for gating.
# Provides the imported target LibDwarf::LibDwarf.
find_path(LibDwarf_INCLUDE_DIR NAMES libdwarf.h PATH_SUFFIXES libdwarf libdwarf-0)
find_library(LibDwarf_LIBRARY NAMES dwarf)

if(LibDwarf_INCLUDE_DIR AND EXISTS "${LibDwarf_INCLUDE_DIR}/libdwarf.h")
  # The 2021-era API defines DW_DLC_READ; libdwarf 0.x removed it.
  file(STRINGS "${LibDwarf_INCLUDE_DIR}/libdwarf.h" _dw_old REGEX "^#define DW_DLC_READ ")
  if(NOT _dw_old)
    message(FATAL_ERROR "libdwarf at ${LibDwarf_INCLUDE_DIR} uses the 0.x API; hwcov is written "
                        "to the 20210528 API that Debian 12 ships (libdwarf-dev).")
  endif()
  set(LibDwarf_VERSION "20210528")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibDwarf
  REQUIRED_VARS LibDwarf_LIBRARY LibDwarf_INCLUDE_DIR
  VERSION_VAR LibDwarf_VERSION)

if(LibDwarf_FOUND AND NOT TARGET LibDwarf::LibDwarf)
  add_library(LibDwarf::LibDwarf UNKNOWN IMPORTED)
  set_target_properties(LibDwarf::LibDwarf PROPERTIES
    IMPORTED_LOCATION "${LibDwarf_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LibDwarf_INCLUDE_DIR}")
endif()
mark_as_advanced(LibDwarf_INCLUDE_DIR LibDwarf_LIBRARY)
