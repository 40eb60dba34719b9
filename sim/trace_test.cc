// Trace: fields, hashing, writers, first divergence.
#include "sim/trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/trace_writers.h"

namespace storsim::sim {
namespace {

TEST(TraceTest, FieldsAreReadByName) {
  MemoryTraceSink sink;
  Trace trace;
  trace.AddObserver(&sink);
  trace.Emit(Instant::FromNanos(5), 2, "ps.attach",
             {TraceField::Int("gen", 7), TraceField::Str("shard", "t1-0")});
  ASSERT_EQ(sink.events().size(), 1u);
  const TraceEvent& e = sink.events()[0];
  EXPECT_EQ(e.Int("gen"), 7);
  EXPECT_EQ(e.Str("shard"), "t1-0");
  EXPECT_EQ(e.Int("missing", -1), -1);
  EXPECT_EQ(e.ToString(), "0.000000005s p2 ps.attach gen=7 shard=t1-0");
}

TEST(TraceTest, HashDependsOnEveryPartOfEveryEvent) {
  auto hash_of = [](int64_t t, int32_t p, const char* kind, int64_t value) {
    Trace trace;
    trace.Emit(Instant::FromNanos(t), p, kind, {TraceField::Int("v", value)});
    return trace.hash();
  };
  const uint64_t base = hash_of(1, 1, "k", 1);
  EXPECT_EQ(base, hash_of(1, 1, "k", 1));
  EXPECT_NE(base, hash_of(2, 1, "k", 1));
  EXPECT_NE(base, hash_of(1, 2, "k", 1));
  EXPECT_NE(base, hash_of(1, 1, "j", 1));
  EXPECT_NE(base, hash_of(1, 1, "k", 2));
}

// The braced-list, span and vector forms of Emit give the same hash and the same events, with
// and without observers; an observer that emits while it reads an event sees both intact.
TEST(TraceTest, EveryEmitFormGivesTheSameHashAndEvents) {
  const std::string long_text(100, 'x');  // beyond any small-string buffer
  auto fields_of = [&](int i) {
    return std::vector<TraceField>{TraceField::Int("i", i), TraceField::Str("s", long_text),
                                   TraceField::Str("short", std::to_string(i))};
  };
  auto run = [&](int form, bool observe) {
    MemoryTraceSink sink;
    Trace trace;
    if (observe) trace.AddObserver(&sink);
    for (int i = 0; i < 20; ++i) {
      const Instant at = Instant::FromNanos(i);
      if (form == 0) {
        trace.Emit(at, 1, "e", {TraceField::Int("i", i), TraceField::Str("s", long_text),
                                TraceField::Str("short", std::to_string(i))});
      } else if (form == 1) {
        const std::vector<TraceField> fields = fields_of(i);
        trace.Emit(at, 1, "e", std::span<const TraceField>(fields.data(), i % 4 == 0 ? 1 : 3));
        if (i % 4 == 0) trace.Emit(at, 1, "e", std::span<const TraceField>(fields.data() + 1, 2));
      } else {
        trace.Emit(at, 1, "e", fields_of(i));
      }
    }
    std::vector<std::string> lines;
    for (const TraceEvent& event : sink.events()) lines.push_back(event.ToString());
    return std::make_pair(trace.hash(), lines);
  };
  const auto list = run(0, true);
  const auto vector = run(2, true);
  EXPECT_EQ(list, vector);
  EXPECT_EQ(list.second.size(), 20u);
  EXPECT_EQ(run(0, false).first, list.first);
  EXPECT_EQ(run(2, false).first, list.first);
  // The span run splits every fourth event in two: same fields, more events, another hash.
  EXPECT_NE(run(1, true).first, list.first);
  EXPECT_EQ(run(1, true).second.size(), 25u);

  class Echo : public TraceObserver {
   public:
    explicit Echo(Trace& trace) : trace_(trace) {}
    void OnEvent(const TraceEvent& event) override {
      seen_.push_back(event.ToString());
      if (event.kind == "outer") trace_.Emit(event.at, 0, "inner", {TraceField::Int("n", 1)});
      seen_.push_back(event.ToString());  // unchanged by the nested emit
    }
    std::vector<std::string> seen_;

   private:
    Trace& trace_;
  };
  Trace trace;
  Echo echo(trace);
  trace.AddObserver(&echo);
  trace.Emit(Instant::FromNanos(3), 0, "outer", {TraceField::Str("s", long_text)});
  const std::string outer = "0.000000003s p0 outer s=" + long_text;
  const std::string inner = "0.000000003s p0 inner n=1";
  EXPECT_EQ(echo.seen_, (std::vector<std::string>{outer, inner, inner, outer}));
}

TEST(TraceTest, FirstDivergenceNamesTheFirstDifferingEvent) {
  MemoryTraceSink a, b;
  Trace ta, tb;
  ta.AddObserver(&a);
  tb.AddObserver(&b);
  for (int i = 0; i < 5; ++i) {
    ta.Emit(Instant::FromNanos(i), 0, "e", {TraceField::Int("i", i)});
    tb.Emit(Instant::FromNanos(i), 0, "e", {TraceField::Int("i", i == 3 ? 99 : i)});
  }
  EXPECT_EQ(FirstDivergence(a.events(), b.events()), std::optional<size_t>(3));
  EXPECT_EQ(FirstDivergence(a.events(), a.events()), std::nullopt);
}

std::string WriteWith(const std::function<void(std::FILE*)>& write) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* file = open_memstream(&buffer, &size);
  write(file);
  std::fclose(file);
  std::string out(buffer, size);
  std::free(buffer);
  return out;
}

TEST(TraceTest, NdjsonWriterEscapesAndWritesOneObjectPerLine) {
  const std::string out = WriteWith([](std::FILE* file) {
    NdjsonTraceWriter writer(file);
    Trace trace;
    trace.AddObserver(&writer);
    trace.Emit(Instant::FromNanos(1), 0, "a", {TraceField::Str("s", "q\"uote\n")});
    trace.Emit(Instant::FromNanos(2), -1, "b", {TraceField::Int("n", -3)});
  });
  EXPECT_EQ(out,
            "{\"seq\":0,\"t_ns\":1,\"pid\":0,\"kind\":\"a\",\"s\":\"q\\\"uote\\n\"}\n"
            "{\"seq\":1,\"t_ns\":2,\"pid\":-1,\"kind\":\"b\",\"n\":-3}\n");
}

TEST(TraceTest, PerfettoWriterProducesATraceEventArray) {
  const std::string out = WriteWith([](std::FILE* file) {
    PerfettoTraceWriter writer(file);
    writer.NameProcess(0, "controller-1");
    Trace trace;
    trace.AddObserver(&writer);
    trace.Emit(Instant::FromNanos(1500), 0, "leader", {});
  });
  EXPECT_NE(out.find("\"traceEvents\":["), std::string::npos);
  EXPECT_NE(out.find("\"name\":\"controller-1\""), std::string::npos);
  EXPECT_NE(out.find("\"ts\":1.500"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\n]}\n");
}

}  // namespace
}  // namespace storsim::sim
