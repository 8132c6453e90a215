#pragma once
// How parmap::mpi turns items and results into bytes and back: parmap::mpi::serializer<T>,
// with writer and reader. Built in: trivially copyable types (raw bytes), std::basic_string,
// std::vector, std::pair, std::tuple and std::optional of serializable types. Any other type
// travels once the user specializes serializer<T> (see below).

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace parmap::mpi {

class writer;
class reader;

/// The customization point: how a T is written to and read back from a message.
/// The primary template is empty, which makes T unserializable; specialize it for your type,
/// before the first parmap::mpi::parallel_map call that uses it, with two static functions:
///
///   template <> struct parmap::mpi::serializer<particle> {
///     static void write(parmap::mpi::writer& w, const particle& p) {
///       w.write(p.name);   // members go through their own serializers
///       w.write(p.mass);
///     }
///     static particle read(parmap::mpi::reader& r) {
///       auto name = r.read<std::string>();
///       auto mass = r.read<double>();
///       return particle{std::move(name), mass};
///     }
///   };
///
/// read() must consume exactly the bytes write() produced, in the same order. Both run on
/// whichever rank sends or receives the value, possibly on a different machine of the same
/// architecture (bytes are not converted between endiannesses). An exception thrown by either
/// ends the call like an exception of the mapped function at that chunk's first index.
template <class T>
struct serializer {};

/// True when serializer<T> can write and read a T.
template <class T>
concept serializable = requires(writer& w, reader& r, const T& value) {
  serializer<T>::write(w, value);
  { serializer<T>::read(r) } -> std::same_as<T>;
};

/// Types sent as their raw bytes. Pointers are left out: an address means nothing on another
/// rank. (A struct that holds a pointer is trivially copyable too and would be sent raw; give it
/// a serializer of its own.)
template <class T>
concept raw_bytes = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                    !std::is_member_pointer_v<T> && !std::is_reference_v<T>;

/// Appends bytes to a message.
class writer {
 public:
  /// Appends `size` bytes from `data`.
  void write_bytes(const void* data, std::size_t size) {
    if (size == 0) return;
    const std::size_t at = bytes_.size();
    bytes_.resize(at + size);
    std::memcpy(bytes_.data() + at, data, size);
  }
  /// Appends `value` through serializer<T>.
  template <class T>
  void write(const T& value) {
    static_assert(serializable<T>,
                  "parmap::mpi: this type has no serializer; specialize "
                  "parmap::mpi::serializer<T> (see parmap/mpi_serializer.hpp)");
    serializer<T>::write(*this, value);
  }
  /// Reserves room for `size` more bytes.
  void reserve(std::size_t size) { bytes_.reserve(bytes_.size() + size); }
  /// The bytes written so far.
  [[nodiscard]] std::vector<std::byte>& bytes() noexcept { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

/// Reads bytes from a received message, front to back.
class reader {
 public:
  reader(const std::byte* data, std::size_t size) noexcept : at_(data), left_(size) {}
  /// Copies the next `size` bytes into `out`. Throws std::runtime_error when fewer remain
  /// (a serializer that reads more than its write() wrote).
  void read_bytes(void* out, std::size_t size) {
    need(size);
    if (size == 0) return;
    std::memcpy(out, at_, size);
    at_ += size;
    left_ -= size;
  }
  /// Reads a T through serializer<T>.
  template <class T>
  [[nodiscard]] T read() {
    static_assert(serializable<T>,
                  "parmap::mpi: this type has no serializer; specialize "
                  "parmap::mpi::serializer<T> (see parmap/mpi_serializer.hpp)");
    return serializer<T>::read(*this);
  }
  /// Reads a length written by writer::write(std::uint64_t) and checks that at least
  /// `length * min_bytes_each` bytes follow, so a corrupt length cannot allocate wildly.
  [[nodiscard]] std::size_t read_length(std::size_t min_bytes_each) {
    const auto length = read<std::uint64_t>();
    if (min_bytes_each != 0 && length > left_ / min_bytes_each) {
      throw std::runtime_error("parmap::mpi: a message announces " + std::to_string(length) +
                               " elements but holds only " + std::to_string(left_) +
                               " more bytes (do write() and read() of a serializer agree?)");
    }
    return static_cast<std::size_t>(length);
  }
  /// Bytes not read yet.
  [[nodiscard]] std::size_t remaining() const noexcept { return left_; }

 private:
  void need(std::size_t size) const {
    if (size > left_) {
      throw std::runtime_error("parmap::mpi: a message ended " + std::to_string(size - left_) +
                               " bytes early (do write() and read() of a serializer agree?)");
    }
  }
  const std::byte* at_;
  std::size_t left_;
};

/// Trivially copyable types: their object representation.
template <raw_bytes T>
struct serializer<T> {
  static void write(writer& w, const T& value) { w.write_bytes(&value, sizeof(T)); }
  static T read(reader& r) {
    std::array<std::byte, sizeof(T)> raw;
    r.read_bytes(raw.data(), sizeof(T));
    return std::bit_cast<T>(raw);
  }
};

/// Strings: the length, then the characters.
template <raw_bytes C, class Traits, class Alloc>
struct serializer<std::basic_string<C, Traits, Alloc>> {
  using string = std::basic_string<C, Traits, Alloc>;
  static void write(writer& w, const string& s) {
    w.write(static_cast<std::uint64_t>(s.size()));
    w.write_bytes(s.data(), s.size() * sizeof(C));
  }
  static string read(reader& r) {
    const std::size_t n = r.read_length(sizeof(C));
    string s(n, C{});
    r.read_bytes(s.data(), n * sizeof(C));
    return s;
  }
};

/// Vectors: the length, then the elements (one block of bytes for raw elements).
template <serializable U, class Alloc>
requires(!std::is_same_v<U, bool>) struct serializer<std::vector<U, Alloc>> {
  using vector = std::vector<U, Alloc>;
  static void write(writer& w, const vector& v) {
    w.write(static_cast<std::uint64_t>(v.size()));
    if constexpr (raw_bytes<U>) {
      w.write_bytes(v.data(), v.size() * sizeof(U));
    } else {
      for (const U& x : v) w.write(x);
    }
  }
  static vector read(reader& r) {
    // Every element takes at least one byte, except empty structs, which take none to check.
    const std::size_t n = r.read_length(raw_bytes<U> ? sizeof(U) : 0);
    vector v;
    if constexpr (raw_bytes<U> && std::is_default_constructible_v<U>) {
      v.resize(n);
      r.read_bytes(v.data(), n * sizeof(U));
    } else {
      v.reserve(std::min<std::size_t>(n, r.remaining()));
      for (std::size_t i = 0; i < n; ++i) v.push_back(r.read<U>());
    }
    return v;
  }
};

/// std::vector<bool> packs its bits: one byte per element on the wire.
template <class Alloc>
struct serializer<std::vector<bool, Alloc>> {
  static void write(writer& w, const std::vector<bool, Alloc>& v) {
    w.write(static_cast<std::uint64_t>(v.size()));
    for (bool b : v) w.write(static_cast<std::uint8_t>(b ? 1 : 0));
  }
  static std::vector<bool, Alloc> read(reader& r) {
    const std::size_t n = r.read_length(1);
    std::vector<bool, Alloc> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = r.read<std::uint8_t>() != 0;
    return v;
  }
};

/// Pairs that are not trivially copyable: first, then second.
template <serializable A, serializable B>
requires(!raw_bytes<std::pair<A, B>>) struct serializer<std::pair<A, B>> {
  static void write(writer& w, const std::pair<A, B>& p) {
    w.write(p.first);
    w.write(p.second);
  }
  static std::pair<A, B> read(reader& r) {
    A a = r.read<A>();
    B b = r.read<B>();
    return std::pair<A, B>(std::move(a), std::move(b));
  }
};

/// Tuples that are not trivially copyable: each element in order.
template <serializable... Ts>
requires(!raw_bytes<std::tuple<Ts...>>) struct serializer<std::tuple<Ts...>> {
  static void write(writer& w, const std::tuple<Ts...>& t) {
    std::apply([&w](const Ts&... xs) { (w.write(xs), ...); }, t);
  }
  static std::tuple<Ts...> read(reader& r) {
    // Braced initialization evaluates the reads left to right.
    return std::tuple<Ts...>{r.read<Ts>()...};
  }
};

/// Optionals that are not trivially copyable: a flag byte, then the value if there is one.
template <serializable U>
requires(!raw_bytes<std::optional<U>>) struct serializer<std::optional<U>> {
  static void write(writer& w, const std::optional<U>& o) {
    w.write(static_cast<std::uint8_t>(o ? 1 : 0));
    if (o) w.write(*o);
  }
  static std::optional<U> read(reader& r) {
    if (r.read<std::uint8_t>() == 0) return std::nullopt;
    return std::optional<U>(r.read<U>());
  }
};

}  // namespace parmap::mpi
