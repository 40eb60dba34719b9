// Sanitizer builds switch fibers through ucontext (BOOST_USE_UCONTEXT), as Boost.Context requires
// for AddressSanitizer. Debian's libboost_context is compiled for fcontext, so it lacks the
// ucontext implementation's per-thread activation record; it is defined here, in our own words,
// only for those builds. Ordinary builds compile this file to nothing.
#if defined(BOOST_USE_UCONTEXT)

#include <boost/context/fiber.hpp>

namespace boost::context::detail {
namespace {
// The record of whatever context runs on this thread now; the first one is the thread's own.
thread_local fiber_activation_record* current_record = nullptr;
thread_local std::size_t initializer_count = 0;
}  // namespace

fiber_activation_record_initializer::fiber_activation_record_initializer() noexcept {
  if (initializer_count++ == 0) current_record = new fiber_activation_record();
}

fiber_activation_record_initializer::~fiber_activation_record_initializer() {
  if (--initializer_count == 0) {
    delete current_record;
    current_record = nullptr;
  }
}

fiber_activation_record*& fiber_activation_record::current() noexcept {
  // Constructed on first use on each thread, destroyed when the thread ends.
  thread_local fiber_activation_record_initializer initializer;
  return current_record;
}

}  // namespace boost::context::detail

#endif  // BOOST_USE_UCONTEXT
