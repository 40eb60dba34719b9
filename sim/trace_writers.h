// Trace sinks that write files: NDJSON (one JSON object per event, for tools and diffs) and the
// Chrome/Perfetto trace-event format (open in ui.perfetto.dev or chrome://tracing), with one track
// per process and instant events on it.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "sim/trace.h"

namespace storsim::sim {

// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);
// One event as a JSON object: {"seq":..,"t_ns":..,"pid":..,"kind":"..", fields...}.
std::string EventToJson(const TraceEvent& event);

class NdjsonTraceWriter : public TraceObserver {
 public:
  // Writes to `file` (not owned; the caller closes it).
  explicit NdjsonTraceWriter(std::FILE* file) : file_(file) {}
  void OnEvent(const TraceEvent& event) override;

 private:
  std::FILE* file_;
};

class PerfettoTraceWriter : public TraceObserver {
 public:
  explicit PerfettoTraceWriter(std::FILE* file);
  ~PerfettoTraceWriter() override;  // closes the JSON array
  // Names a process track (shown instead of "pid N").
  void NameProcess(int32_t process, std::string_view name);
  void OnEvent(const TraceEvent& event) override;

 private:
  void Separator();
  std::FILE* file_;
  bool first_ = true;
};

}  // namespace storsim::sim
