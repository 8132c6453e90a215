#pragma once
// A small, strict JSON (RFC 8259) reader and writer for parmap's own files: the wisdom store and
// result files. Private to the library; parmap takes on no JSON dependency for this.
//
// Strict means: one value with only whitespace around it; no comments, trailing commas, NaN,
// leading zeros or single quotes; strings are valid UTF-8 with no raw control characters and
// no lone surrogates; no duplicate keys in an object; at most max_depth nested arrays and
// objects. Anything else is a parse_error that says where (line and column) and what.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace parmap::detail::json {

/// What a value holds. (Declared before `array` and `object` so that its enumerators do not
/// shadow them.)
enum class kind { null, boolean, number, string, array, object };

/// The integer types a value stores exactly: all but bool (a bool is a JSON boolean).
template <class T>
concept integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;

class value;
/// A JSON array.
using array = std::vector<value>;
/// A JSON object: its members in the order they were read or added, which the writer keeps,
/// so a file written by a program reads in the order the program chose. Keys are unique.
using object = std::vector<std::pair<std::string, value>>;

/// Thrown by parse(): the text is not JSON. what() is "line L, column C: <problem>".
class parse_error : public std::runtime_error {
 public:
  parse_error(std::size_t line, std::size_t column, const std::string& problem);
  /// 1-based line of the problem.
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  /// 1-based column of the problem, in bytes from the start of the line.
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

 private:
  std::size_t line_;
  std::size_t column_;
};

/// Thrown by value's accessors when the value is of another kind, or a number does not fit the
/// type asked for. what() names the kind expected and the kind found.
class type_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One JSON value: null, a boolean, a number, a string, an array or an object.
/// A number keeps an integer exactly (the full std::int64_t and std::uint64_t ranges), so a
/// count or a size written and read back is the same number; other numbers are doubles.
class value {
 public:
  /// null.
  value() noexcept = default;
  value(std::nullptr_t) noexcept {}
  value(bool b) noexcept : data_(b) {}
  /// Any integer type but bool, stored exactly.
  template <integer Int>
  value(Int n) noexcept {
    if constexpr (std::is_signed_v<Int>) {
      data_ = static_cast<std::int64_t>(n);
    } else {
      data_ = static_cast<std::uint64_t>(n);
    }
  }
  /// A double. The writer writes a NaN or an infinity as null: JSON has no such numbers.
  value(double d) noexcept : data_(d) {}
  value(std::string s) noexcept : data_(std::move(s)) {}
  value(std::string_view s) : data_(std::string(s)) {}
  value(const char* s) : data_(std::string(s)) {}
  value(json::array a) noexcept : data_(std::move(a)) {}
  value(json::object o) noexcept : data_(std::move(o)) {}

  [[nodiscard]] kind type() const noexcept;
  [[nodiscard]] bool is_null() const noexcept { return type() == kind::null; }
  [[nodiscard]] bool is_bool() const noexcept { return type() == kind::boolean; }
  [[nodiscard]] bool is_number() const noexcept { return type() == kind::number; }
  [[nodiscard]] bool is_string() const noexcept { return type() == kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return type() == kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return type() == kind::object; }

  /// The value, or type_error if it is not of that kind.
  [[nodiscard]] bool as_bool() const;
  /// Any number, converted to double (a large integer may round).
  [[nodiscard]] double as_double() const;
  /// A number that is a whole number within std::int64_t's range (1e3 counts; 1.5 does not).
  [[nodiscard]] std::int64_t as_int64() const;
  /// A number that is a whole number within std::uint64_t's range.
  [[nodiscard]] std::uint64_t as_uint64() const;
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const json::array& as_array() const;
  [[nodiscard]] json::array& as_array();
  [[nodiscard]] const json::object& as_object() const;
  [[nodiscard]] json::object& as_object();

  /// The member `key` of an object, or nullptr when there is none or this is not an object.
  [[nodiscard]] const value* find(std::string_view key) const noexcept;
  /// The member `key` of an object, added as null when missing; a null value becomes an empty
  /// object first. type_error for any other kind.
  value& operator[](std::string_view key);
  /// Appends to an array; a null value becomes an empty array first. type_error otherwise.
  void push_back(value v);

  friend bool operator==(const value& a, const value& b) noexcept;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, json::array,
               json::object>
      data_ = nullptr;
};

/// The name of a kind: "null", "boolean", "number", "string", "array", "object".
[[nodiscard]] std::string_view to_string(kind k) noexcept;

/// The deepest nesting of arrays and objects parse() accepts, so that hostile input cannot
/// exhaust the stack.
inline constexpr std::size_t max_depth = 512;

/// True when `s` is valid UTF-8 (RFC 3629: no overlong forms, surrogates or code points past
/// U+10FFFF), the rule parse() applies to strings.
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

/// The value `text` holds. Throws parse_error (see the rules at the top of this file).
[[nodiscard]] value parse(std::string_view text);

/// `v` as JSON text. indent >= 0: one member or element per line, indented by `indent` spaces
/// per level, and a final newline; an empty array or object stays "[]" / "{}". indent < 0: all
/// on one line, no spaces. Strings are escaped as JSON requires (", \, control characters);
/// an invalid UTF-8 sequence is written as U+FFFD, so the output is always valid JSON. Doubles
/// are written in the shortest form that reads back to the same double.
[[nodiscard]] std::string write(const value& v, int indent = 2);

}  // namespace parmap::detail::json
