// The parent project's own library in tests/consumer's subdirectory mode. It is declared with a
// plain add_library(parent_lib parent_lib.cpp): its type is the parent's choice, never parmap's.
int parent_lib_answer() { return 42; }
