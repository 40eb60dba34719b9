// JSON writers for trace events.
#include "sim/trace_writers.h"

#include <cinttypes>

namespace storsim::sim {

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out;
}

namespace {
void AppendFields(std::string& out, const TraceEvent& event) {
  for (const auto& field : event.fields) {
    out += ",\"";
    out += JsonEscape(field.key);
    out += "\":";
    if (field.is_text) {
      out += '"';
      out += JsonEscape(field.text);
      out += '"';
    } else {
      out += std::to_string(field.number);
    }
  }
}
}  // namespace

std::string EventToJson(const TraceEvent& event) {
  std::string out = "{\"seq\":" + std::to_string(event.sequence) +
                    ",\"t_ns\":" + std::to_string(event.at.nanos()) +
                    ",\"pid\":" + std::to_string(event.process) + ",\"kind\":\"" +
                    JsonEscape(event.kind) + "\"";
  AppendFields(out, event);
  out += '}';
  return out;
}

void NdjsonTraceWriter::OnEvent(const TraceEvent& event) {
  std::string line = EventToJson(event);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), file_);
}

PerfettoTraceWriter::PerfettoTraceWriter(std::FILE* file) : file_(file) {
  std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", file_);
}

PerfettoTraceWriter::~PerfettoTraceWriter() { std::fputs("\n]}\n", file_); }

void PerfettoTraceWriter::Separator() {
  if (!first_) std::fputs(",\n", file_);
  first_ = false;
}

void PerfettoTraceWriter::NameProcess(int32_t process, std::string_view name) {
  Separator();
  // Kernel events (process -1) go to track 0; process N to track N + 1.
  std::string line = "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" +
                     std::to_string(process + 1) + ",\"args\":{\"name\":\"" +
                     JsonEscape(name) + "\"}}";
  std::fputs(line.c_str(), file_);
}

void PerfettoTraceWriter::OnEvent(const TraceEvent& event) {
  Separator();
  // Trace-event timestamps are microseconds; keep nanosecond precision as a decimal fraction.
  char ts[48];
  std::snprintf(ts, sizeof ts, "%" PRId64 ".%03" PRId64, event.at.nanos() / 1000,
                event.at.nanos() % 1000);
  std::string line = "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"" + JsonEscape(event.kind) +
                     "\",\"pid\":" + std::to_string(event.process + 1) +
                     ",\"tid\":1,\"ts\":" + ts + ",\"args\":{\"seq\":" +
                     std::to_string(event.sequence);
  AppendFields(line, event);
  line += "}}";
  std::fputs(line.c_str(), file_);
}

}  // namespace storsim::sim
