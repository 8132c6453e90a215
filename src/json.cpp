// The strict JSON reader and writer of json.hpp.
#include "json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <unordered_set>

namespace parmap::detail::json {
namespace {

[[noreturn]] void wrong_kind(std::string_view wanted, kind found) {
  throw type_error("JSON: expected " + std::string(wanted) + ", found " +
                   std::string(to_string(found)));
}

/// The length of the valid UTF-8 sequence at the start of `s` (1 to 4), or 0 when it is not one:
/// overlong forms, surrogates and code points past U+10FFFF are invalid (RFC 3629).
std::size_t utf8_length(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ---- reading --------------------------------------------------------------------------------

class reader {
 public:
  explicit reader(std::string_view text) : text_(text) {}

  value document() {
    skip_space();
    value v = any(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { fail_at(pos_, problem); }

  [[noreturn]] void fail_at(std::size_t at, const std::string& problem) const {
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    throw parse_error(line, at - line_start + 1, problem);
  }

  /// What is at the current position, for messages: "'x'" or "the end of the text".
  [[nodiscard]] std::string here() const {
    if (pos_ >= text_.size()) return "the end of the text";
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c < 0x20 || c >= 0x7F) {
      static constexpr char hex[] = "0123456789abcdef";
      return std::string("byte 0x") + hex[c >> 4] + hex[c & 0xF];
    }
    return {'\'', static_cast<char>(c), '\''};
  }

  [[nodiscard]] bool at_end() const noexcept { return pos_ >= text_.size(); }
  /// The current character; '\0' at the end, which no rule below accepts.
  [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
  [[nodiscard]] bool digit() const noexcept { return peek() >= '0' && peek() <= '9'; }

  void skip_space() noexcept {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  void expect(char c, const char* what) {
    if (peek() != c) fail(std::string("expected ") + what + ", found " + here());
    ++pos_;
  }

  value any(std::size_t depth) {
    switch (peek()) {
      case '{':
        return object_value(depth);
      case '[':
        return array_value(depth);
      case '"':
        return string_value();
      case 't':
        return literal("true", true);
      case 'f':
        return literal("false", false);
      case 'n':
        return literal("null", nullptr);
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
        fail("expected a JSON value, found " + here());
    }
  }

  value literal(std::string_view word, value v) {
    if (text_.substr(pos_, word.size()) != word) fail("expected a JSON value, found " + here());
    pos_ += word.size();
    return v;
  }

  void enter(std::size_t depth) const {
    if (depth >= max_depth) {
      fail("arrays and objects nested deeper than " + std::to_string(max_depth));
    }
  }

  value array_value(std::size_t depth) {
    enter(depth);
    ++pos_;  // '['
    array a;
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return a;
    }
    for (;;) {
      skip_space();
      a.push_back(any(depth + 1));
      skip_space();
      if (peek() == ']') {
        ++pos_;
        return a;
      }
      expect(',', "',' or ']'");
    }
  }

  value object_value(std::size_t depth) {
    enter(depth);
    ++pos_;  // '{'
    object o;
    // The keys so far, once there are enough of them that scanning would be slow: a file with
    // a million keys in one object must not take a million squared steps.
    std::unordered_set<std::string> keys;
    constexpr std::size_t scan_limit = 32;
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return o;
    }
    for (;;) {
      skip_space();
      const std::size_t key_at = pos_;
      if (peek() != '"') fail("expected a string key, found " + here());
      std::string key = string_text();
      bool duplicate = false;
      if (o.size() < scan_limit) {
        for (const auto& member : o) duplicate = duplicate || member.first == key;
      } else {
        if (keys.empty()) {
          for (const auto& member : o) keys.insert(member.first);
        }
        duplicate = !keys.insert(key).second;
      }
      if (duplicate) fail_at(key_at, "duplicate key \"" + key + "\"");
      skip_space();
      expect(':', "':'");
      skip_space();
      o.emplace_back(std::move(key), any(depth + 1));
      skip_space();
      if (peek() == '}') {
        ++pos_;
        return o;
      }
      expect(',', "',' or '}'");
    }
  }

  value string_value() { return string_text(); }

  /// Four hex digits after "\u".
  std::uint32_t hex4() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        fail("expected four hex digits after \\u, found " + here());
      }
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  std::string string_text() {
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const char c = peek();
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (u < 0x20) fail("control character " + here() + " in a string (write it as \\u00XX)");
      if (c == '\\') {
        ++pos_;
        escape(out);
        continue;
      }
      const std::size_t n = utf8_length(text_.substr(pos_));
      if (n == 0) fail("invalid UTF-8 in a string");
      out.append(text_.substr(pos_, n));
      pos_ += n;
    }
  }

  void escape(std::string& out) {
    const char c = peek();
    if (at_end()) fail("unterminated string");
    ++pos_;
    switch (c) {
      case '"':
        out += '"';
        return;
      case '\\':
        out += '\\';
        return;
      case '/':
        out += '/';
        return;
      case 'b':
        out += '\b';
        return;
      case 'f':
        out += '\f';
        return;
      case 'n':
        out += '\n';
        return;
      case 'r':
        out += '\r';
        return;
      case 't':
        out += '\t';
        return;
      case 'u':
        break;
      default:
        --pos_;
        fail("invalid escape \\" + here());
    }
    const std::size_t at = pos_ - 2;
    std::uint32_t cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(at, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail_at(at, "high surrogate without its low half");
      pos_ += 2;
      const std::uint32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail_at(at, "high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
  }

  value number() {
    const std::size_t start = pos_;
    bool integral = true;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (digit()) fail("leading zero in a number");
    } else if (digit() && peek() != '0') {
      while (digit()) ++pos_;
    } else {
      fail("expected a digit, found " + here());
    }
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!digit()) fail("expected a digit after '.', found " + here());
      while (digit()) ++pos_;
    }
    if ((peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit()) {
        fail("expected a digit in the exponent, found " + here());
      }
      while (digit()) ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      if (*first == '-') {
        std::int64_t i = 0;
        if (std::from_chars(first, last, i).ec == std::errc()) return i;
      } else {
        std::uint64_t u = 0;
        if (std::from_chars(first, last, u).ec == std::errc()) {
          if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(u);
          }
          return u;
        }
      }
      // Integers beyond 64 bits are read as doubles, like every other JSON reader does.
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      // from_chars says the same for 1e400 and 1e-400: only the first is an error; the second
      // is as close to zero as a double gets.
      if (decimal_magnitude(std::string_view(first, pos_ - start)) > 0) {
        fail_at(start, "number out of range of a double");
      }
      return *first == '-' ? -0.0 : 0.0;
    }
    if (ec != std::errc() || end != last) fail_at(start, "malformed number");
    return d;
  }

  /// The power of ten of the first nonzero digit of a JSON number that is not zero: 2 for
  /// 123, -3 for 0.001, 400 for 1e400. Saturates far beyond any double's range.
  static long long decimal_magnitude(std::string_view number) {
    if (!number.empty() && number.front() == '-') number.remove_prefix(1);
    const std::size_t e = number.find_first_of("eE");
    long long exponent = 0;
    if (e != std::string_view::npos) {
      std::string_view digits = number.substr(e + 1);
      const bool negative = !digits.empty() && digits.front() == '-';
      if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
        digits.remove_prefix(1);
      }
      for (const char c : digits) exponent = std::min(exponent * 10 + (c - '0'), 1'000'000'000LL);
      if (negative) exponent = -exponent;
      number = number.substr(0, e);
    }
    const std::size_t dot = number.find('.');
    const std::string_view whole = number.substr(0, dot);
    if (whole != "0") return static_cast<long long>(whole.size()) - 1 + exponent;
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
    const std::size_t first_nonzero = fraction.find_first_not_of('0');
    return -static_cast<long long>(first_nonzero + 1) + exponent;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---- writing --------------------------------------------------------------------------------

void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x80) {
      const std::size_t n = utf8_length(s.substr(i));
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per bad byte
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (u) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xF];
        } else {
          out += static_cast<char>(u);
        }
    }
    ++i;
  }
  out += '"';
}

template <class Number>
void write_number(std::string& out, Number n) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, ec == std::errc() ? end : buf);
}

class writer {
 public:
  explicit writer(int indent) : indent_(indent) {}

  void any(std::string& out, const value& v, std::size_t level) const {
    switch (v.type()) {
      case kind::null:
        out += "null";
        return;
      case kind::boolean:
        out += v.as_bool() ? "true" : "false";
        return;
      case kind::number:
        number(out, v);
        return;
      case kind::string:
        write_string(out, v.as_string());
        return;
      case kind::array: {
        const array& a = v.as_array();
        if (a.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (i > 0) out += ',';
          newline(out, level + 1);
          any(out, a[i], level + 1);
        }
        newline(out, level);
        out += ']';
        return;
      }
      case kind::object: {
        const object& o = v.as_object();
        if (o.empty()) {
          out += "{}";
          return;
        }
        out += '{';
        for (std::size_t i = 0; i < o.size(); ++i) {
          if (i > 0) out += ',';
          newline(out, level + 1);
          write_string(out, o[i].first);
          out += indent_ >= 0 ? ": " : ":";
          any(out, o[i].second, level + 1);
        }
        newline(out, level);
        out += '}';
        return;
      }
    }
  }

 private:
  void newline(std::string& out, std::size_t level) const {
    if (indent_ < 0) return;
    out += '\n';
    out.append(level * static_cast<std::size_t>(indent_), ' ');
  }

  static void number(std::string& out, const value& v) {
    // The exact integer when there is one: as_int64 and as_uint64 throw only for other numbers.
    const double d = v.as_double();
    if (!std::isfinite(d)) {
      out += "null";
      return;
    }
    if (d == std::trunc(d)) {
      try {
        if (d < 0) {
          write_number(out, v.as_int64());
        } else {
          write_number(out, v.as_uint64());
        }
        return;
      } catch (const type_error&) {
        // A whole double beyond 64 bits: written as a double below.
      }
    }
    write_number(out, d);
  }

  int indent_;
};

}  // namespace

parse_error::parse_error(std::size_t line, std::size_t column, const std::string& problem)
    : std::runtime_error("line " + std::to_string(line) + ", column " + std::to_string(column) +
                         ": " + problem),
      line_(line),
      column_(column) {}

std::string_view to_string(kind k) noexcept {
  switch (k) {
    case kind::null:
      return "null";
    case kind::boolean:
      return "boolean";
    case kind::number:
      return "number";
    case kind::string:
      return "string";
    case kind::array:
      return "array";
    case kind::object:
      return "object";
  }
  return "unknown";
}

kind value::type() const noexcept {
  switch (data_.index()) {
    case 0:
      return kind::null;
    case 1:
      return kind::boolean;
    case 2:
    case 3:
    case 4:
      return kind::number;
    case 5:
      return kind::string;
    case 6:
      return kind::array;
    default:
      return kind::object;
  }
}

bool value::as_bool() const {
  if (const bool* b = std::get_if<bool>(&data_)) return *b;
  wrong_kind("a boolean", type());
}

double value::as_double() const {
  if (const auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) return static_cast<double>(*u);
  if (const auto* d = std::get_if<double>(&data_)) return *d;
  wrong_kind("a number", type());
}

std::int64_t value::as_int64() const {
  if (const auto* i = std::get_if<std::int64_t>(&data_)) return *i;
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*u);
    }
  } else if (const auto* d = std::get_if<double>(&data_)) {
    // -2^63 is exact as a double; 2^63 is the first double past the range.
    if (*d == std::trunc(*d) && *d >= -9223372036854775808.0 && *d < 9223372036854775808.0) {
      return static_cast<std::int64_t>(*d);
    }
  } else {
    wrong_kind("a whole number", type());
  }
  throw type_error("JSON: number out of range of a 64-bit signed whole number");
}

std::uint64_t value::as_uint64() const {
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) return *u;
  if (const auto* i = std::get_if<std::int64_t>(&data_)) {
    if (*i >= 0) return static_cast<std::uint64_t>(*i);
  } else if (const auto* d = std::get_if<double>(&data_)) {
    if (*d == std::trunc(*d) && *d >= 0 && *d < 18446744073709551616.0) {
      return static_cast<std::uint64_t>(*d);
    }
  } else {
    wrong_kind("a whole number", type());
  }
  throw type_error("JSON: number out of range of a 64-bit unsigned whole number");
}

const std::string& value::as_string() const {
  if (const auto* s = std::get_if<std::string>(&data_)) return *s;
  wrong_kind("a string", type());
}

const array& value::as_array() const {
  if (const auto* a = std::get_if<array>(&data_)) return *a;
  wrong_kind("an array", type());
}

array& value::as_array() {
  if (auto* a = std::get_if<array>(&data_)) return *a;
  wrong_kind("an array", type());
}

const object& value::as_object() const {
  if (const auto* o = std::get_if<object>(&data_)) return *o;
  wrong_kind("an object", type());
}

object& value::as_object() {
  if (auto* o = std::get_if<object>(&data_)) return *o;
  wrong_kind("an object", type());
}

const value* value::find(std::string_view key) const noexcept {
  const auto* o = std::get_if<object>(&data_);
  if (o == nullptr) return nullptr;
  for (const auto& member : *o) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

value& value::operator[](std::string_view key) {
  if (is_null()) data_ = object{};
  object& o = as_object();
  for (auto& member : o) {
    if (member.first == key) return member.second;
  }
  o.emplace_back(std::string(key), value());
  return o.back().second;
}

void value::push_back(value v) {
  if (is_null()) data_ = array{};
  as_array().push_back(std::move(v));
}

bool operator==(const value& a, const value& b) noexcept {
  if (a.is_number() && b.is_number()) {
    // By value, whichever way each was stored: 1, 1u and 1.0 are the same number.
    const bool a_whole = !std::holds_alternative<double>(a.data_);
    const bool b_whole = !std::holds_alternative<double>(b.data_);
    if (a_whole && b_whole) {
      const auto* ai = std::get_if<std::int64_t>(&a.data_);
      const auto* bi = std::get_if<std::int64_t>(&b.data_);
      if (ai != nullptr && bi != nullptr) return *ai == *bi;
      if (ai == nullptr && bi == nullptr) {
        return std::get<std::uint64_t>(a.data_) == std::get<std::uint64_t>(b.data_);
      }
      const std::int64_t s = ai != nullptr ? *ai : *bi;
      const std::uint64_t u =
          ai != nullptr ? std::get<std::uint64_t>(b.data_) : std::get<std::uint64_t>(a.data_);
      return s >= 0 && static_cast<std::uint64_t>(s) == u;
    }
    return a.as_double() == b.as_double();
  }
  return a.data_ == b.data_;
}

bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

value parse(std::string_view text) {
  return reader(text).document();
}

std::string write(const value& v, int indent) {
  std::string out;
  writer(indent).any(out, v, 0);
  if (indent >= 0) out += '\n';
  return out;
}

}  // namespace parmap::detail::json
