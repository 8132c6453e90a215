// expect: parmap::parallel_for: f cannot be called with an index
#include <parmap/parmap.hpp>

#include <string>
#include <vector>

void use(std::vector<std::string>& names) {
  parmap::parallel_for(names.size(), [](std::string& s) { s += "!"; });
}
