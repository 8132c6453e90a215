// parmap's private JSON reader and writer (src/json.hpp): what it accepts, what it rejects and
// where it says the problem is, exact numbers, string escaping and round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "json.hpp"

namespace {

namespace json = parmap::detail::json;

/// The parse_error `text` gives; fails the test when it parses.
json::parse_error error_of(std::string_view text) {
  try {
    (void)json::parse(text);
  } catch (const json::parse_error& e) {
    return e;
  }
  ADD_FAILURE() << "parsed: " << text;
  return json::parse_error(0, 0, "none");
}

TEST(JsonRead, Scalars) {
  EXPECT_TRUE(json::parse("null").is_null());
  EXPECT_EQ(json::parse(" true ").as_bool(), true);
  EXPECT_EQ(json::parse("\tfalse\r\n").as_bool(), false);
  EXPECT_EQ(json::parse("0").as_int64(), 0);
  EXPECT_EQ(json::parse("-12").as_int64(), -12);
  EXPECT_EQ(json::parse("1.5").as_double(), 1.5);
  EXPECT_EQ(json::parse("-2.5e-3").as_double(), -2.5e-3);
  EXPECT_EQ(json::parse("1E+2").as_int64(), 100);  // a whole double is a whole number
  EXPECT_EQ(json::parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"").as_string(), "a\"b\\c/d\b\f\n\r\t");
}

TEST(JsonRead, ContainersKeepOrder) {
  const json::value v = json::parse(R"({"z": [1, {"y": null}], "a": {}, "m": []})");
  const json::object& o = v.as_object();
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].first, "z");
  EXPECT_EQ(o[1].first, "a");
  EXPECT_EQ(o[2].first, "m");
  EXPECT_EQ(v.find("z")->as_array().size(), 2u);
  EXPECT_TRUE(v.find("z")->as_array()[1].find("y")->is_null());
  EXPECT_TRUE(v.find("a")->as_object().empty());
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonRead, IntegersAreExact) {
  constexpr auto i64_min = std::numeric_limits<std::int64_t>::min();
  constexpr auto i64_max = std::numeric_limits<std::int64_t>::max();
  constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(json::parse("-9223372036854775808").as_int64(), i64_min);
  EXPECT_EQ(json::parse("9223372036854775807").as_int64(), i64_max);
  EXPECT_EQ(json::parse("18446744073709551615").as_uint64(), u64_max);
  EXPECT_EQ(json::parse("9007199254740993").as_uint64(), 9007199254740993u);  // 2^53 + 1
  // Beyond 64 bits: a double, like any other reader.
  EXPECT_EQ(json::parse("18446744073709551616").as_double(), 18446744073709551616.0);
  EXPECT_THROW((void)json::parse("18446744073709551615").as_int64(), json::type_error);
  EXPECT_THROW((void)json::parse("-1").as_uint64(), json::type_error);
  EXPECT_THROW((void)json::parse("1.5").as_int64(), json::type_error);
  EXPECT_THROW((void)json::parse("\"1\"").as_int64(), json::type_error);
}

TEST(JsonRead, TinyNumbersAreZeroHugeOnesAnError) {
  EXPECT_EQ(json::parse("1e-400").as_double(), 0.0);
  EXPECT_EQ(json::parse("0.0000e-999").as_double(), 0.0);
  EXPECT_EQ(json::parse("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
  EXPECT_NE(std::string(error_of("1e400").what()).find("out of range"), std::string::npos);
  EXPECT_NE(std::string(error_of("-123456e304").what()).find("out of range"), std::string::npos);
}

TEST(JsonRead, UnicodeEscapesAndUtf8) {
  EXPECT_EQ(json::parse(R"("\u00e9\u20ac")").as_string(), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(json::parse(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // a surrogate pair
  EXPECT_EQ(json::parse("\"\xF0\x9F\x98\x80 \xC3\xA9\"").as_string(), "\xF0\x9F\x98\x80 \xC3\xA9");
  EXPECT_EQ(json::parse(R"("\u0000")").as_string(), std::string(1, '\0'));
}

TEST(JsonRead, RejectsWhatIsNotStrictJson) {
  for (const char* bad : {
           "",                      // nothing
           "   ",                   // only space
           "{",                     // truncated
           "{\"a\": 1",             // truncated
           "[1, 2",                 // truncated
           "\"abc",                 // unterminated string
           "[1, 2,]",               // trailing comma
           "{\"a\": 1,}",           // trailing comma
           "{a: 1}",                // unquoted key
           "{'a': 1}",              // single quotes
           "{\"a\" 1}",             // no colon
           "{\"a\": 1, \"a\": 2}",  // duplicate key
           "01",                    // leading zero
           "-",                     // no digits
           "1.",                    // no fraction digits
           ".5",                    // no integer part
           "1e",                    // no exponent digits
           "+1",                    // plus sign
           "NaN",                   // not JSON
           "Infinity",              // not JSON
           "tru",                   // truncated literal
           "nul",                   // truncated literal
           "True",                  // wrong case
           "1 2",                   // two values
           "{} x",                  // text after the value
           "// c\n1",               // comments
           "[1] /* c */",           // comments
           "\"a\tb\"",              // raw control character
           "\"\\x41\"",             // unknown escape
           "\"\\u12\"",             // short \u
           "\"\\ud800\"",           // lone high surrogate
           "\"\\udc00\"",           // lone low surrogate
           "\"\\ud800\\u0041\"",    // high surrogate, then no low one
           "\"\xC3\"",              // truncated UTF-8
           "\"\xC0\xAF\"",          // overlong UTF-8
           "\"\xED\xA0\x80\"",      // a surrogate in UTF-8
           "\"\xF4\x90\x80\x80\"",  // past U+10FFFF
           "\"\xFF\"",              // never valid in UTF-8
           "\xEF\xBB\xBF{}",        // a byte order mark
       }) {
    EXPECT_THROW((void)json::parse(bad), json::parse_error) << "accepted: " << bad;
  }
}

TEST(JsonRead, DuplicateKeysInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i)
    text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  EXPECT_EQ(json::parse(text + "\"last\": 0}").as_object().size(), 1001u);
  EXPECT_NE(std::string(error_of(text + "\"k999\": 0}").what()).find("duplicate key \"k999\""),
            std::string::npos);
  EXPECT_NE(std::string(error_of(text + "\"k\\u0030\": 0}").what()).find("duplicate key \"k0\""),
            std::string::npos);  // the same key, escaped
}

TEST(JsonRead, ErrorsSayLineAndColumn) {
  const json::parse_error e = error_of("{\n  \"a\": 1,\n  \"b\": tru\n}");
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.column(), 8u);
  EXPECT_EQ(std::string(e.what()), "line 3, column 8: expected a JSON value, found 't'");

  const json::parse_error dup = error_of("{\"k\": 1,\n \"k\": 2}");
  EXPECT_EQ(dup.line(), 2u);
  EXPECT_EQ(dup.column(), 2u);
  EXPECT_NE(std::string(dup.what()).find("duplicate key \"k\""), std::string::npos);

  const json::parse_error end = error_of("[1,\n2");
  EXPECT_EQ(end.line(), 2u);
  EXPECT_EQ(end.column(), 2u);
  EXPECT_NE(std::string(end.what()).find("the end of the text"), std::string::npos);
}

TEST(JsonRead, NestingIsBounded) {
  const std::string ok = std::string(json::max_depth, '[') + std::string(json::max_depth, ']');
  EXPECT_NO_THROW((void)json::parse(ok));
  // Deep enough to overflow the stack of a reader without the bound.
  const std::string deep(1'000'000, '[');
  const json::parse_error e = error_of(deep);
  EXPECT_NE(std::string(e.what()).find("nested deeper"), std::string::npos);
}

TEST(JsonValue, BuildAndCompare) {
  json::value v;
  v["name"] = "resize";
  v["threads"] = 4;
  v["chunk"] = std::size_t{64};
  v["ratio"] = 0.5;
  v["ok"] = true;
  v["runs"].push_back(json::object{{"real_time", 1.25}});
  EXPECT_EQ(v.type(), json::kind::object);
  EXPECT_EQ(v.find("threads")->as_int64(), 4);
  EXPECT_EQ(v.find("runs")->as_array().size(), 1u);
  EXPECT_EQ(json::value(1), json::value(1u));
  EXPECT_EQ(json::value(1), json::value(1.0));
  EXPECT_FALSE(json::value(-1) == json::value(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_FALSE(json::value("1") == json::value(1));
  EXPECT_THROW(v["name"].push_back(1), json::type_error);
  EXPECT_THROW((void)v.find("name")->as_array(), json::type_error);
  json::value s = "text";
  EXPECT_THROW(s["key"], json::type_error);
}

TEST(JsonWrite, IndentedAndCompact) {
  json::value v;
  v["a"] = 1;
  v["b"] = json::array{true, nullptr, "x"};
  v["c"] = json::object{};
  v["d"] = json::array{};
  EXPECT_EQ(json::write(v, -1), R"({"a":1,"b":[true,null,"x"],"c":{},"d":[]})");
  EXPECT_EQ(json::write(v),
            "{\n"
            "  \"a\": 1,\n"
            "  \"b\": [\n"
            "    true,\n"
            "    null,\n"
            "    \"x\"\n"
            "  ],\n"
            "  \"c\": {},\n"
            "  \"d\": []\n"
            "}\n");
}

TEST(JsonWrite, StringsAreEscaped) {
  EXPECT_EQ(json::write(json::value("q\" b\\ \n\r\t\b\f \x01 \x1f \x7f /"), -1),
            R"("q\" b\\ \n\r\t\b\f \u0001 \u001f )"
            "\x7f"
            R"( /")");
  EXPECT_EQ(json::write(json::value(std::string("a\0b", 3)), -1), R"("a\u0000b")");
  // UTF-8 passes through; a byte that is not UTF-8 becomes U+FFFD, so the output parses.
  EXPECT_EQ(json::write(json::value("\xC3\xA9"), -1), "\"\xC3\xA9\"");
  const std::string bad = json::write(json::value("a\xFF"
                                                  "b\xC3"),
                                      -1);
  EXPECT_EQ(bad,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  EXPECT_NO_THROW((void)json::parse(bad));
}

TEST(JsonWrite, NumbersRoundTrip) {
  EXPECT_EQ(json::write(json::value(0.1), -1), "0.1");
  EXPECT_EQ(json::write(json::value(3.0), -1), "3");
  EXPECT_EQ(json::write(json::value(-0.0), -1), "0");
  EXPECT_EQ(json::write(json::value(std::numeric_limits<double>::quiet_NaN()), -1), "null");
  EXPECT_EQ(json::write(json::value(-std::numeric_limits<double>::infinity()), -1), "null");
  for (const double d : {0.1, 1.0 / 3, 1e300, -2.5e-308, 5e-324, 123456789.125, 1e20, 2e19,
                         std::numeric_limits<double>::max()}) {
    EXPECT_EQ(json::parse(json::write(json::value(d), -1)).as_double(), d) << d;
  }
  for (const std::int64_t i : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1},
                               std::int64_t{0}, std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(json::parse(json::write(json::value(i), -1)).as_int64(), i);
  }
  const auto u = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(json::write(json::value(u), -1), "18446744073709551615");
  EXPECT_EQ(json::parse(json::write(json::value(u), -1)).as_uint64(), u);
}

TEST(JsonWrite, DocumentsRoundTrip) {
  const char* text = R"({
  "context": {
    "host_name": "vm",
    "num_cpus": 2,
    "caches": [{"type": "Data", "level": 1, "size": 32768}],
    "library_build_type": "release"
  },
  "benchmarks": [
    {"name": "map/threads/1024", "iterations": 1000, "real_time": 1.5e3, "time_unit": "ns"},
    {"name": "\u00e9t\u00e9 \"quoted\"", "iterations": 1, "real_time": 0.25, "ok": false, "x": null}
  ]
})";
  const json::value v = json::parse(text);
  EXPECT_EQ(json::parse(json::write(v)), v);
  EXPECT_EQ(json::parse(json::write(v, -1)), v);
  EXPECT_EQ(json::write(json::parse(json::write(v))), json::write(v));  // a fixed point
}

}  // namespace
