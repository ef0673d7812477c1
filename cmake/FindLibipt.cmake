# Finds libipt (Intel's Processor Trace decoder library).
# Debian ships neither a pkg-config file nor a CMake config for it.
# Provides the imported target Libipt::Libipt and Libipt_VERSION (from intel-pt.h).
find_path(Libipt_INCLUDE_DIR NAMES intel-pt.h)
find_library(Libipt_LIBRARY NAMES ipt)

if(Libipt_INCLUDE_DIR AND EXISTS "${Libipt_INCLUDE_DIR}/intel-pt.h")
  file(STRINGS "${Libipt_INCLUDE_DIR}/intel-pt.h" _ipt_ver
       REGEX "^#define LIBIPT_VERSION_(MAJOR|MINOR|PATCH) ")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "LIBIPT_VERSION_${_part} ([0-9]+)" _m "${_ipt_ver}")
    set(_ipt_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  if(_ipt_PATCH STREQUAL "")
    set(_ipt_PATCH 0)
  endif()
  set(Libipt_VERSION "${_ipt_MAJOR}.${_ipt_MINOR}.${_ipt_PATCH}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Libipt
  REQUIRED_VARS Libipt_LIBRARY Libipt_INCLUDE_DIR
  VERSION_VAR Libipt_VERSION)

if(Libipt_FOUND AND NOT TARGET Libipt::Libipt)
  add_library(Libipt::Libipt UNKNOWN IMPORTED)
  set_target_properties(Libipt::Libipt PROPERTIES
    IMPORTED_LOCATION "${Libipt_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Libipt_INCLUDE_DIR}")
endif()
mark_as_advanced(Libipt_INCLUDE_DIR Libipt_LIBRARY)
