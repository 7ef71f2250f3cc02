# Fails when a file includes a header from a floor it may not use.
# Run as: cmake -DROOT=<source dir> -P cmake/check_floors.cmake
#
# The floors, each with the floors below it that it may include. This table
# and the target_link_libraries lines in CMakeLists.txt say the same thing;
# docs/ARCHITECTURE.md draws it.
set(allowed_core      core)
set(allowed_detectors core detectors)
set(allowed_streams   core streams)
set(allowed_engine    core detectors streams engine)
set(allowed_models    core detectors streams engine models)
set(allowed_src       core detectors streams engine models src)
set(floors core detectors streams engine models src)

set(violations "")
foreach(floor ${floors})
  file(GLOB sources "${ROOT}/${floor}/*.c" "${ROOT}/${floor}/*.h")
  foreach(f ${sources})
    file(STRINGS "${f}" includes REGEX "^#include \"[a-z_]+/")
    foreach(line ${includes})
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target "${line}")
      list(FIND floors "${target}" is_floor)
      list(FIND allowed_${floor} "${target}" ok)
      if(is_floor GREATER -1 AND ok EQUAL -1)
        file(RELATIVE_PATH rel "${ROOT}" "${f}")
        string(APPEND violations "  ${rel}: ${line} (${floor}/ may use: ${allowed_${floor}})\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "upward includes break the floors:\n${violations}")
endif()
