// The register checker on hand-written histories: it must fire on each kind of violation it
// claims to catch, and accept legal histories (including concurrent and unacknowledged writes).
#include "scenarios/check/register_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace storsim::scenarios {
namespace {

// Builds a history event by event; each call is one step later in real time.
class History {
 public:
  History() : checker_([this](Violation violation) { found_.push_back(violation); }) {}

  History& InvokeWrite(int64_t op, int64_t value) {
    return Emit("register.invoke",
                {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "write"),
                 sim::TraceField::Int("value", value), sim::TraceField::Int("final", 0)});
  }
  History& WriteOk(int64_t op, int64_t value) {
    return Emit("register.ok",
                {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "write"),
                 sim::TraceField::Int("value", value)});
  }
  History& InvokeRead(int64_t op, bool final = false) {
    return Emit("register.invoke",
                {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "read"),
                 sim::TraceField::Int("value", 0), sim::TraceField::Int("final", final ? 1 : 0)});
  }
  History& ReadOk(int64_t op, int64_t value) {
    return Emit("register.ok",
                {sim::TraceField::Int("op", op), sim::TraceField::Str("type", "read"),
                 sim::TraceField::Int("value", value)});
  }
  History& Fail(int64_t op, const char* type) {
    return Emit("register.fail",
                {sim::TraceField::Int("op", op), sim::TraceField::Str("type", type)});
  }
  History& Write(int64_t op, int64_t value) { return InvokeWrite(op, value).WriteOk(op, value); }
  History& Read(int64_t op, int64_t value) { return InvokeRead(op).ReadOk(op, value); }

  void Finish() { checker_.Finish(sim::Instant::FromNanos(1'000'000'000'000)); }
  const std::vector<Violation>& found() const { return found_; }
  std::string Invariants() const {
    std::string out;
    for (const Violation& violation : found_) out += violation.invariant + " ";
    return out;
  }

 private:
  History& Emit(std::string_view kind, std::vector<sim::TraceField> fields) {
    sim::TraceEvent event;
    event.sequence = sequence_++;
    event.at = sim::Instant::FromNanos(static_cast<int64_t>(event.sequence) * 1000);
    event.kind = kind;
    event.process = 3;
    event.fields = std::move(fields);
    checker_.OnEvent(event);
    return *this;
  }

  std::vector<Violation> found_;
  RegisterChecker checker_;
  uint64_t sequence_ = 0;
};

TEST(RegisterCheckerTest, AcceptsSequentialHistory) {
  History history;
  history.Read(1, 0).Write(2, 20).Read(3, 20).Write(4, 40).Read(5, 40);
  history.InvokeRead(6, /*final=*/true).ReadOk(6, 40);
  history.Finish();
  EXPECT_TRUE(history.found().empty()) << history.Invariants();
}

TEST(RegisterCheckerTest, AcceptsConcurrentWritesInEitherOrder) {
  History history;
  // Two overlapping writes: reads may see them in either order, once each.
  history.InvokeWrite(1, 10).InvokeWrite(2, 20).WriteOk(1, 10).WriteOk(2, 20);
  history.Read(3, 10);  // 20 linearized first, then 10
  history.Read(4, 10);
  history.InvokeRead(5, true).ReadOk(5, 10);
  history.Finish();
  EXPECT_TRUE(history.found().empty()) << history.Invariants();
}

TEST(RegisterCheckerTest, AcceptsUnacknowledgedWriteTakingEffectLate) {
  History history;
  history.Write(1, 10);
  history.InvokeWrite(2, 20).Fail(2, "write");  // timed out: may still land
  history.Read(3, 10).Read(4, 20);
  history.InvokeRead(5, true).ReadOk(5, 20);
  history.Finish();
  EXPECT_TRUE(history.found().empty()) << history.Invariants();
}

TEST(RegisterCheckerTest, FlagsStaleRead) {
  History history;
  history.Write(1, 10).Write(2, 20).Read(3, 10);
  ASSERT_EQ(history.found().size(), 1u) << history.Invariants();
  EXPECT_EQ(history.found()[0].invariant, "REG1");
  EXPECT_NE(history.found()[0].detail.find("write 20"), std::string::npos)
      << history.found()[0].detail;
}

TEST(RegisterCheckerTest, FlagsInitialValueAfterCompletedWrite) {
  History history;
  history.Write(1, 10).Read(2, 0);
  ASSERT_EQ(history.found().size(), 1u);
  EXPECT_EQ(history.found()[0].invariant, "REG1");
}

TEST(RegisterCheckerTest, FlagsValueNeverWritten) {
  History history;
  history.Write(1, 10).Read(2, 77);
  ASSERT_EQ(history.found().size(), 1u);
  EXPECT_EQ(history.found()[0].invariant, "REG2");
}

TEST(RegisterCheckerTest, FlagsValueReadBeforeItsWriteWasInvoked) {
  History history;
  history.InvokeRead(1).ReadOk(1, 30).Write(2, 30);
  ASSERT_GE(history.found().size(), 1u);
  EXPECT_EQ(history.found()[0].invariant, "REG2");
}

TEST(RegisterCheckerTest, FlagsNewOldInversionBetweenReads) {
  History history;
  // Write 20 is still running (never acknowledged), so REG1 alone cannot fire; but once one read
  // returned 20, a later read must not go back to 10, which completed before 20 began.
  history.Write(1, 10).InvokeWrite(2, 20);
  history.Read(3, 20).Read(4, 10);
  ASSERT_EQ(history.found().size(), 1u) << history.Invariants();
  EXPECT_EQ(history.found()[0].invariant, "REG3");
}

TEST(RegisterCheckerTest, OverlappingReadsMayDisagree) {
  History history;
  history.Write(1, 10).InvokeWrite(2, 20);
  // Reads 3 and 4 overlap each other and write 20: any order is legal.
  history.InvokeRead(3).InvokeRead(4).ReadOk(3, 20).ReadOk(4, 10);
  EXPECT_TRUE(history.found().empty()) << history.Invariants();
}

TEST(RegisterCheckerTest, FlagsReusedWriteValue) {
  History history;
  history.Write(1, 10).InvokeWrite(2, 10);
  ASSERT_EQ(history.found().size(), 1u);
  EXPECT_EQ(history.found()[0].invariant, "REG0");
}

TEST(RegisterCheckerTest, LivenessNeedsAFinalRead) {
  History history;
  history.Write(1, 10);
  history.Finish();
  ASSERT_EQ(history.found().size(), 1u);
  EXPECT_EQ(history.found()[0].invariant, "REG-L1");
}

TEST(RegisterCheckerTest, LivenessNeedsTheFinalReadToSucceed) {
  History history;
  history.Write(1, 10).InvokeRead(2, true).Fail(2, "read");
  history.Finish();
  ASSERT_EQ(history.found().size(), 1u);
  EXPECT_EQ(history.found()[0].invariant, "REG-L1");
  EXPECT_NE(history.found()[0].detail.find("did not succeed"), std::string::npos);
}

TEST(RegisterCheckerTest, LivenessFlagsAFinalReadOlderThanTheLatestWrite) {
  History history;
  history.Write(1, 10).Write(2, 20).InvokeRead(3, true).ReadOk(3, 10);
  history.Finish();
  // The stale final read is a safety violation and a liveness one.
  EXPECT_EQ(history.Invariants(), "REG1 REG-L1 ");
}

}  // namespace
}  // namespace storsim::scenarios
