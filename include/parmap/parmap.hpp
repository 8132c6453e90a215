#pragma once
// parmap: parallel_for, parallel_map and their relatives over interchangeable backends. The
// one include users need.

#include "parmap/backend.hpp"
#include "parmap/config.hpp"
#include "parmap/errors.hpp"
#include "parmap/function.hpp"
#include "parmap/interrupt.hpp"
#include "parmap/map_reduce.hpp"
#include "parmap/options.hpp"
#include "parmap/outcome.hpp"
#include "parmap/parallel_for.hpp"
#include "parmap/parallel_map.hpp"
#include "parmap/report.hpp"
#include "parmap/stream.hpp"
#include "parmap/topology.hpp"
#include "parmap/tune.hpp"
#include "parmap/wisdom.hpp"
#include "parmap/zip.hpp"
