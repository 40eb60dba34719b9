// Trace: fields, hashing, writers, first divergence.
#include "sim/trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

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
