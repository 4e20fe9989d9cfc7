// CAF 0.17 writes a double with caf::detail::pack754, which never returns for an infinite value (it halves
// infinity until it is below 2). The fuzzer found it: a registry record read back with the bits of infinity in a
// weight hung the thread that wrote it again. A peer could do the same with any double it sends (a timestamp, a
// weight): the value is read without complaint and hangs whatever thread serializes it next, a master's
// middleman included. So nothing non-finite gets in.
// CAF's binary_deserializer reads doubles and floats through its virtual apply_impl overloads, and libcaf_core's
// vtable refers to them by name through the dynamic linker. A program linking mesoscaf defines both here. They
// read the bits as CAF does (an unsigned integer, then unpack754) and refuse infinities and NaN with an error,
// which fails the whole message. The compact codec (messages/compact_codec.hpp) refuses them as well.
#include "messages/finite_doubles.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/detail/ieee_754.hpp>
#include <caf/sec.hpp>

#include <cmath>

namespace mesoscaf {

void use_finite_doubles() {
  // Nothing to do: calling it links this file, whose definitions below replace CAF's.
}

} // namespace mesoscaf

namespace {

/// `x` from CAF's packed bits, if they hold a finite value.
template <class Float, class Bits>
caf::error assign_finite(Bits bits, Float& x) {
  auto value = caf::detail::unpack754(bits);
  if (!std::isfinite(value))
    return caf::make_error(caf::sec::invalid_argument, "a floating-point value that is not finite");
  x = value;
  return caf::none;
}

} // namespace

namespace caf {

error binary_deserializer::apply_impl(double& x) {
  uint64_t bits = 0;
  if (auto err = apply_impl(bits))
    return err;
  return assign_finite(bits, x);
}

error binary_deserializer::apply_impl(float& x) {
  uint32_t bits = 0;
  if (auto err = apply_impl(bits))
    return err;
  return assign_finite(bits, x);
}

} // namespace caf
