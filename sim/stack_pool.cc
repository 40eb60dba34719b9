// mmap-backed stack pool with guard pages.
#include "sim/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include "sim/check.h"

namespace storsim::sim {
namespace {
size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }
}  // namespace

StackPool::StackPool(size_t stack_bytes, size_t stacks_max) : stacks_max_(stacks_max) {
  const size_t page = PageSize();
  stack_bytes_ = (stack_bytes + page - 1) / page * page;
}

StackPool::~StackPool() {
  const size_t page = PageSize();
  for (auto& stack : free_) {
    void* base = static_cast<char*>(stack.sp) - stack.size - page;
    ::munmap(base, stack.size + page);
  }
}

boost::context::stack_context StackPool::Allocate() {
  SIM_CHECK_MSG(live_ < stacks_max_, "fiber stack pool exhausted: too many live fibers");
  ++live_;
  if (!free_.empty()) {
    boost::context::stack_context stack = free_.back();
    free_.pop_back();
    return stack;
  }
  const size_t page = PageSize();
  void* base = ::mmap(nullptr, stack_bytes_ + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  SIM_CHECK_MSG(base != MAP_FAILED, "mmap of a fiber stack failed");
  ::mprotect(base, page, PROT_NONE);  // guard page: stacks grow down
  boost::context::stack_context stack;
  stack.size = stack_bytes_;
  stack.sp = static_cast<char*>(base) + page + stack_bytes_;
  return stack;
}

void StackPool::Deallocate(boost::context::stack_context& stack) {
  --live_;
  free_.push_back(stack);
}

}  // namespace storsim::sim
