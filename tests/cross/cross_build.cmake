# Configures and builds one cross sub-build; run by the cross_<arch>_build ctest case
# (tests/cross/CMakeLists.txt) as `cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DTOOLCHAIN_FILE=...
# -DGENERATOR=... -DJOBS=... -P cross_build.cmake`. Re-running reuses the sub-build (incremental).
foreach(_var SOURCE_DIR BINARY_DIR TOOLCHAIN_FILE GENERATOR JOBS)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "cross_build.cmake: -D${_var}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR}
    -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}
    -DCMAKE_BUILD_TYPE=Release
    -DGNRT_BUILD_TESTS=ON
    -DGNRT_CROSS_TESTS=OFF
    -DGNRT_BUILD_TOOLS=OFF
    -DGNRT_BUILD_CONVERTER=OFF
    -DGNRT_BUILD_BENCH=OFF
    -DGNRT_WITH_XNNPACK=OFF
    -DGNRT_SANITIZE=OFF
  RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "cross configure failed (${_result}): ${BINARY_DIR}")
endif()

execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} --parallel ${JOBS}
  RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "cross build failed (${_result}): ${BINARY_DIR}")
endif()
