// A type-erased, copyable message body with small-buffer storage: bodies of up to 48 bytes live
// inside the Payload (no heap allocation per message); larger ones are boxed. Copy is needed for
// duplication faults. Type identity is by a per-type tag address, used for equality only (never
// for ordering or hashing, which would vary between runs).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "sim/check.h"

namespace storsim::sim {

class Payload {
 public:
  Payload() = default;
  template <typename T, typename = std::enable_if_t<!std::is_same_v<std::decay_t<T>, Payload>>>
  explicit Payload(T&& value) {
    Emplace<std::decay_t<T>>(std::forward<T>(value));
  }
  Payload(const Payload& other) { CopyFrom(other); }
  Payload(Payload&& other) noexcept { MoveFrom(std::move(other)); }
  Payload& operator=(const Payload& other) {
    if (this != &other) {
      Reset();
      CopyFrom(other);
    }
    return *this;
  }
  Payload& operator=(Payload&& other) noexcept {
    if (this != &other) {
      Reset();
      MoveFrom(std::move(other));
    }
    return *this;
  }
  ~Payload() { Reset(); }

  template <typename T, typename... Args>
  T& Emplace(Args&&... args) {
    Reset();
    ops_ = &OpsFor<T>::kOps;
    if constexpr (kInline<T>) {
      return *new (buffer_) T(std::forward<Args>(args)...);
    } else {
      T* boxed = new T(std::forward<Args>(args)...);
      *reinterpret_cast<T**>(buffer_) = boxed;
      return *boxed;
    }
  }

  bool empty() const { return ops_ == nullptr; }
  template <typename T>
  bool Is() const {
    return ops_ == &OpsFor<T>::kOps;
  }
  template <typename T>
  T& Get() {
    SIM_CHECK_MSG(Is<T>(), "payload holds another type");
    if constexpr (kInline<T>) {
      return *std::launder(reinterpret_cast<T*>(buffer_));
    } else {
      return **reinterpret_cast<T**>(buffer_);
    }
  }
  template <typename T>
  const T& Get() const {
    return const_cast<Payload*>(this)->Get<T>();
  }

  void Reset() {
    if (ops_ != nullptr) {
      ops_->destroy(buffer_);
      ops_ = nullptr;
    }
  }

 private:
  static constexpr size_t kBufferBytes = 48;
  template <typename T>
  static constexpr bool kInline = sizeof(T) <= kBufferBytes && alignof(T) <= 16 &&
                                  std::is_nothrow_move_constructible_v<T>;

  struct Ops {
    void (*copy)(const void* from, void* to);
    void (*move)(void* from, void* to);
    void (*destroy)(void* buffer);
  };
  template <typename T>
  struct OpsFor {
    static void Copy(const void* from, void* to) {
      if constexpr (kInline<T>) {
        new (to) T(*std::launder(reinterpret_cast<const T*>(from)));
      } else {
        *reinterpret_cast<T**>(to) = new T(**reinterpret_cast<T* const*>(from));
      }
    }
    static void Move(void* from, void* to) {
      if constexpr (kInline<T>) {
        T* source = std::launder(reinterpret_cast<T*>(from));
        new (to) T(std::move(*source));
        source->~T();
      } else {
        *reinterpret_cast<T**>(to) = *reinterpret_cast<T**>(from);
      }
    }
    static void Destroy(void* buffer) {
      if constexpr (kInline<T>) {
        std::launder(reinterpret_cast<T*>(buffer))->~T();
      } else {
        delete *reinterpret_cast<T**>(buffer);
      }
    }
    static constexpr Ops kOps{&Copy, &Move, &Destroy};
  };

  void CopyFrom(const Payload& other) {
    if (other.ops_ == nullptr) return;
    other.ops_->copy(other.buffer_, buffer_);
    ops_ = other.ops_;
  }
  void MoveFrom(Payload&& other) {
    if (other.ops_ == nullptr) return;
    other.ops_->move(other.buffer_, buffer_);
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  alignas(16) unsigned char buffer_[kBufferBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace storsim::sim
