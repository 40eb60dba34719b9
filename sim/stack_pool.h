// Pooled, bounded fiber stacks for Boost.Context. Stacks are mmap'ed once with a guard page below
// them (an overflow faults instead of corrupting a neighbour) and recycled through a free list, so
// spawning a fiber on the hot path costs no system call after warm-up.
#pragma once

#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <vector>

namespace storsim::sim {

class StackPool {
 public:
  // stack_bytes: usable size of each stack (rounded up to pages); stacks_max: bound on live stacks.
  StackPool(size_t stack_bytes, size_t stacks_max);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context Allocate();  // throws InvariantViolation past stacks_max
  void Deallocate(boost::context::stack_context& stack);

  size_t live() const { return live_; }

 private:
  size_t stack_bytes_;
  size_t stacks_max_;
  size_t live_ = 0;
  std::vector<boost::context::stack_context> free_;
};

// The StackAllocator concept of Boost.Context, forwarding to a shared pool.
class PooledStackAllocator {
 public:
  explicit PooledStackAllocator(StackPool* pool) : pool_(pool) {}
  boost::context::stack_context allocate() { return pool_->Allocate(); }
  void deallocate(boost::context::stack_context& stack) noexcept { pool_->Deallocate(stack); }

 private:
  StackPool* pool_;
};

}  // namespace storsim::sim
