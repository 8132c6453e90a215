# Compiles one file of tests/compile_fail with -fsyntax-only and checks what its first line asks:
#   // expect: compiles     it must compile, without an error
#   // expect: <text>       it must not compile; an error line must contain <text> (a literal
#                           string, not a regular expression), and there must be at most
#                           MAX_ERRORS error lines: a misuse of parmap reads as one line.
# Run by CTest: cmake -DCXX=... -DSOURCE=... -DINCLUDE_DIRS=a,b [-DEXTRA_FLAGS=x,y] -P <this>
# (lists are comma-separated, since CTest would split a semicolon list into arguments).
set(MAX_ERRORS 2)

foreach(var CXX SOURCE INCLUDE_DIRS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile.cmake: -D${var}=... is missing")
  endif()
endforeach()

file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^// expect: (.+)$")
  message(FATAL_ERROR "${SOURCE}: the first line must be '// expect: compiles' or "
                      "'// expect: <the error text>'")
endif()
set(expected "${CMAKE_MATCH_1}")

set(flags -std=c++20 -fsyntax-only)
string(REPLACE "," ";" include_dirs "${INCLUDE_DIRS}")
foreach(dir ${include_dirs})
  list(APPEND flags "-I${dir}")
endforeach()
if(DEFINED EXTRA_FLAGS)
  string(REPLACE "," ";" extra "${EXTRA_FLAGS}")
  list(APPEND flags ${extra})
endif()

execute_process(COMMAND "${CXX}" ${flags} "${SOURCE}" RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE out)
# The compiler's error lines only ("file:line:col: error: ..."), not its notes. A semicolon
# would split a CMake list, so both sides compare with commas instead.
string(REPLACE ";" "," listable "${out}")
string(REPLACE ";" "," expected "${expected}")
string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${listable}")
list(LENGTH errors error_count)

if(expected STREQUAL "compiles")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "expected ${SOURCE} to compile, but it did not:\n${out}")
  endif()
  message(STATUS "compiled, as expected")
  return()
endif()

if(status EQUAL 0)
  message(FATAL_ERROR "expected ${SOURCE} not to compile (with '${expected}'), but it compiled")
endif()
set(found FALSE)
foreach(line IN LISTS errors)
  string(FIND "${line}" "${expected}" at)
  if(NOT at EQUAL -1)
    set(found TRUE)
  endif()
endforeach()
if(NOT found)
  message(FATAL_ERROR "expected an error containing '${expected}'; the compiler said:\n${out}")
endif()
if(error_count GREATER MAX_ERRORS)
  message(FATAL_ERROR "expected at most ${MAX_ERRORS} error lines, got ${error_count}:\n${out}")
endif()
string(REPLACE ";" "\n" error_lines "${errors}")
message(STATUS "rejected with ${error_count} error line(s), as expected:\n${error_lines}")
