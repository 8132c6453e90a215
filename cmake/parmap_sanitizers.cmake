# Warnings and the sanitizer builds (PARMAP_SANITIZE=thread | address).
set(PARMAP_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion)

if(NOT PARMAP_SANITIZE STREQUAL "")
  # The sanitizer builds are optimized (RelWithDebInfo) but check parmap's invariants too.
  add_compile_definitions(PARMAP_ENABLE_ASSERTS)
endif()
if(PARMAP_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -g -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(PARMAP_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -g
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT PARMAP_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PARMAP_SANITIZE must be '', 'thread' or 'address', not '${PARMAP_SANITIZE}'")
endif()
