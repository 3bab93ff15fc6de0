# Shared by the gnrt cross toolchain files (included, never used on its own).
#
# A cross build must not search the host's /usr/include: its C library headers belong to the
# host. Yet two dependencies are header-only and architecture-independent (doctest and the
# FlatBuffers runtime headers), and Debian installs them only there; the :arm64/:armhf packages
# must not be installed (apt would remove the amd64 LibTorch and XNNPACK). So stage just those
# two folders, as symlinks, in a directory of the build tree and point the project's cache
# variables at it. Users who have their own copies pass -DDOCTEST_INCLUDE_DIR=... or
# -DFLATBUFFERS_INCLUDE_DIR=... and this file leaves them alone.

get_property(_gnrt_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT _gnrt_in_try_compile)
  set(_gnrt_stage "${CMAKE_BINARY_DIR}/host-header-only")
  foreach(_gnrt_pair "doctest;doctest/doctest.h;DOCTEST_INCLUDE_DIR"
                     "flatbuffers;flatbuffers/flatbuffers.h;FLATBUFFERS_INCLUDE_DIR")
    list(GET _gnrt_pair 0 _gnrt_dir)
    list(GET _gnrt_pair 1 _gnrt_header)
    list(GET _gnrt_pair 2 _gnrt_var)
    if(NOT DEFINED CACHE{${_gnrt_var}} AND EXISTS "/usr/include/${_gnrt_header}")
      file(MAKE_DIRECTORY "${_gnrt_stage}")
      if(NOT EXISTS "${_gnrt_stage}/${_gnrt_dir}")
        file(CREATE_LINK "/usr/include/${_gnrt_dir}" "${_gnrt_stage}/${_gnrt_dir}" SYMBOLIC)
      endif()
      set(${_gnrt_var} "${_gnrt_stage}" CACHE PATH
          "Header-only ${_gnrt_dir}, staged from the host's /usr/include by the toolchain file")
    endif()
  endforeach()
endif()
unset(_gnrt_in_try_compile)

# Host programs (flatc generates a target-independent header) come from the host; libraries,
# headers and packages only from the target's root.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
