// The safekeeper process: durable WAL append, reads from an LSN, feedback and trimming.
#include "model/safekeeper/safekeeper.h"

#include <algorithm>
#include <functional>

#include "model/safekeeper/events.h"
#include "model/safekeeper/record_codec.h"
#include "sim/check.h"
#include "sim/sync.h"

namespace storsim::safekeeper {
namespace {

constexpr char kWalPrefix[] = "sk/wal/";
constexpr uint64_t kRecordTag = 1;   // a WAL record: lsn, key, value
constexpr uint64_t kTrimTag = 2;     // the trim point: trimmed_below

std::string WalFile(const std::string& tenant_id) { return kWalPrefix + tenant_id; }

std::string EncodeRecord(const api::WalRecord& record) {
  codec::RecordWriter writer;
  writer.Int(kRecordTag).Int(record.lsn).Int(record.key).Str(record.value);
  return writer.Take();
}

std::string EncodeTrim(api::Lsn trimmed_below) {
  codec::RecordWriter writer;
  writer.Int(kTrimTag).Int(trimmed_below);
  return writer.Take();
}

}  // namespace

std::vector<api::DefectInfo> SafekeeperDefects() { return {}; }

Safekeeper::Safekeeper(SafekeeperOptions options, api::Defects defects)
    : options_(options), defects_(std::move(defects)) {
  SIM_CHECK(options_.trim_period > sim::Duration::Zero());
  SIM_CHECK(options_.read_records_max > 0);
}

void Safekeeper::Recover(sim::Env& env) {
  timelines_.clear();
  const std::vector<std::string> files = env.disk().List(kWalPrefix);
  for (const std::string& file : files) {
    const std::string tenant_id = file.substr(sizeof(kWalPrefix) - 1);
    Timeline& timeline = timelines_[tenant_id];
    for (const std::string& raw : env.disk().Read(file)) {
      codec::RecordReader reader(raw);
      const uint64_t tag = reader.Int();
      if (tag == kTrimTag) {
        SIM_CHECK_MSG(timeline.records.empty(), "trim record after WAL records");
        timeline.trimmed_below = reader.Int();
        timeline.last_lsn = timeline.trimmed_below - 1;
        continue;
      }
      SIM_CHECK_MSG(tag == kRecordTag, "unknown WAL record tag");
      api::WalRecord record;
      record.lsn = reader.Int();
      record.key = reader.Int();
      record.value = reader.Str();
      SIM_CHECK_MSG(record.lsn == timeline.last_lsn + 1, "WAL file LSNs are not consecutive");
      timeline.last_lsn = record.lsn;
      timeline.records.push_back(std::move(record));
    }
  }
}

void Safekeeper::Run(sim::Env& env) {
  running_ = false;
  incarnation_ = env.incarnation();
  Recover(env);
  env.rpc().Serve(api::kAppendWal,
                  std::function<api::AppendWalResponse(const api::AppendWalRequest&,
                                                       const sim::CallContext&)>(
                      [this, &env](const api::AppendWalRequest& request, const sim::CallContext&) {
                        return Append(env, request);
                      }));
  env.rpc().Serve(api::kReadWal,
                  std::function<api::ReadWalResponse(const api::ReadWalRequest&,
                                                     const sim::CallContext&)>(
                      [this, &env](const api::ReadWalRequest& request, const sim::CallContext&) {
                        return Read(env, request);
                      }));
  env.rpc().Serve(api::kFeedback,
                  std::function<api::FeedbackResponse(const api::RemoteConsistentLsnFeedback&,
                                                      const sim::CallContext&)>(
                      [this, &env](const api::RemoteConsistentLsnFeedback& request,
                                   const sim::CallContext&) { return OnFeedback(env, request); }));
  running_ = true;
  env.Emit(events::kStart, {sim::TraceField::Int("inc", static_cast<int64_t>(incarnation_)),
                            sim::TraceField::Int("tenants", static_cast<int64_t>(timelines_.size()))});
  // The trim loop runs until a graceful stop; a crash simply ends it.
  while (!env.shutdown_requested().Wait(env.DeadlineAfter(options_.trim_period))) {
    TrimAll(env);
  }
  running_ = false;
}

api::AppendWalResponse Safekeeper::Append(sim::Env& env, const api::AppendWalRequest& request) {
  api::AppendWalResponse response;
  if (request.tenant_id.empty()) {
    response.status = api::Http::kBadRequest;
    return response;
  }
  Timeline& timeline = timelines_[request.tenant_id];
  if (timeline.records.size() >= options_.records_per_tenant_max) {
    response.status = api::Http::kServiceUnavailable;  // bounded WAL: back-pressure
    return response;
  }
  api::WalRecord record{timeline.last_lsn + 1, request.key, request.value};
  // Append and sync happen without yielding, so LSNs are assigned and made durable in order.
  const std::string file = WalFile(request.tenant_id);
  env.disk().Append(file, EncodeRecord(record));
  env.disk().SyncFile(file);
  timeline.last_lsn = record.lsn;
  timeline.records.push_back(record);
  SIM_CHECK(timeline.records.front().lsn == timeline.trimmed_below);
  env.Emit(events::kAppend, {sim::TraceField::Int("inc", static_cast<int64_t>(incarnation_)),
                             sim::TraceField::Str("tenant", request.tenant_id),
                             sim::TraceField::Int("lsn", static_cast<int64_t>(record.lsn)),
                             sim::TraceField::Int("key", static_cast<int64_t>(record.key))});
  response.lsn = record.lsn;
  response.commit_lsn = timeline.last_lsn;
  return response;
}

api::ReadWalResponse Safekeeper::Read(sim::Env& env, const api::ReadWalRequest& request) {
  api::ReadWalResponse response;
  auto it = timelines_.find(request.tenant_id);
  if (it == timelines_.end()) {
    // Nothing written yet: an empty, untrimmed timeline.
    response.trimmed_below = 1;
    return response;
  }
  const Timeline& timeline = it->second;
  response.commit_lsn = timeline.last_lsn;
  response.trimmed_below = timeline.trimmed_below;
  if (request.from_lsn < timeline.trimmed_below) {
    response.status = api::Http::kBadRequest;
    env.Emit(events::kReadRefused,
             {sim::TraceField::Int("inc", static_cast<int64_t>(incarnation_)),
              sim::TraceField::Str("tenant", request.tenant_id),
              sim::TraceField::Int("from_lsn", static_cast<int64_t>(request.from_lsn)),
              sim::TraceField::Int("trimmed_below", static_cast<int64_t>(timeline.trimmed_below))});
    return response;
  }
  if (request.from_lsn > timeline.last_lsn) return response;
  const size_t first = static_cast<size_t>(request.from_lsn - timeline.trimmed_below);
  const size_t limit = std::min<size_t>(std::max<uint32_t>(request.max_records, 1),
                                        options_.read_records_max);
  const size_t last = std::min(timeline.records.size(), first + limit);
  response.records.assign(timeline.records.begin() + static_cast<std::ptrdiff_t>(first),
                          timeline.records.begin() + static_cast<std::ptrdiff_t>(last));
  SIM_CHECK(response.records.front().lsn == request.from_lsn);
  return response;
}

api::FeedbackResponse Safekeeper::OnFeedback(sim::Env& env,
                                             const api::RemoteConsistentLsnFeedback& request) {
  api::FeedbackResponse response;
  if (request.generation.is_none()) {
    response.status = api::Http::kBadRequest;  // only attached (generation-holding) locations
    return response;
  }
  Timeline& timeline = timelines_[request.shard.tenant_id];
  Feedback& current = timeline.feedback[request.shard];
  bool accepted = false;
  if (current.generation.is_none() || request.generation > current.generation) {
    current = Feedback{request.node_id, request.generation, request.remote_consistent_lsn};
    accepted = true;
  } else if (request.generation == current.generation) {
    current.lsn = std::max(current.lsn, request.remote_consistent_lsn);
    current.node_id = request.node_id;
    accepted = true;
  }
  env.Emit(events::kFeedback,
           {sim::TraceField::Int("inc", static_cast<int64_t>(incarnation_)),
            sim::TraceField::Str("shard", request.shard.ToString()),
            sim::TraceField::Int("node", static_cast<int64_t>(request.node_id)),
            sim::TraceField::Int("gen", request.generation.value()),
            sim::TraceField::Int("lsn", static_cast<int64_t>(request.remote_consistent_lsn)),
            sim::TraceField::Int("accepted", accepted ? 1 : 0)});
  return response;
}

api::Lsn Safekeeper::Horizon(const Timeline& timeline) {
  if (timeline.feedback.empty()) return 0;
  uint8_t shard_count = 0;
  for (const auto& [shard, feedback] : timeline.feedback) {
    shard_count = std::max(shard_count, shard.shard_count);
  }
  // Every shard of the newest shard count must have reported; each reads the whole WAL.
  const int shards = shard_count <= 1 ? 1 : shard_count;
  api::Lsn horizon = timeline.last_lsn;
  int reported = 0;
  for (const auto& [shard, feedback] : timeline.feedback) {
    if (shard.shard_count != shard_count) continue;
    horizon = std::min(horizon, feedback.lsn);
    ++reported;
  }
  SIM_CHECK(reported <= shards);
  if (reported < shards) return 0;
  return horizon;
}

void Safekeeper::TrimAll(sim::Env& env) {
  for (auto& [tenant_id, timeline] : timelines_) {
    const api::Lsn horizon = Horizon(timeline);
    if (horizon + 1 <= timeline.trimmed_below) continue;
    SIM_CHECK(horizon <= timeline.last_lsn);
    const api::Lsn trimmed_below = horizon + 1;
    const size_t drop = static_cast<size_t>(trimmed_below - timeline.trimmed_below);
    SIM_CHECK(drop <= timeline.records.size());
    timeline.records.erase(timeline.records.begin(),
                           timeline.records.begin() + static_cast<std::ptrdiff_t>(drop));
    timeline.trimmed_below = trimmed_below;
    std::vector<std::string> file_records;
    file_records.reserve(timeline.records.size() + 1);
    file_records.push_back(EncodeTrim(trimmed_below));
    for (const api::WalRecord& record : timeline.records) file_records.push_back(EncodeRecord(record));
    const std::string file = WalFile(tenant_id);
    env.disk().Replace(file, std::move(file_records));
    env.disk().SyncFile(file);
    SIM_CHECK(timeline.records.empty() || timeline.records.front().lsn == trimmed_below);
    env.Emit(events::kTrim, {sim::TraceField::Int("inc", static_cast<int64_t>(incarnation_)),
                             sim::TraceField::Str("tenant", tenant_id),
                             sim::TraceField::Int("trimmed_below", static_cast<int64_t>(trimmed_below)),
                             sim::TraceField::Int("horizon", static_cast<int64_t>(horizon)),
                             sim::TraceField::Int("commit_lsn", static_cast<int64_t>(timeline.last_lsn))});
  }
}

SafekeeperSnapshot Safekeeper::Snapshot() const {
  SafekeeperSnapshot snapshot;
  snapshot.running = running_;
  snapshot.incarnation = incarnation_;
  for (const auto& [tenant_id, timeline] : timelines_) {
    SafekeeperTimelineSnapshot entry;
    entry.tenant_id = tenant_id;
    entry.commit_lsn = timeline.last_lsn;
    entry.trimmed_below = timeline.trimmed_below;
    entry.records_held = timeline.records.size();
    for (const auto& [shard, feedback] : timeline.feedback) {
      entry.feedback.push_back({shard, feedback.node_id, feedback.generation, feedback.lsn});
    }
    snapshot.timelines.push_back(std::move(entry));
  }
  return snapshot;
}

}  // namespace storsim::safekeeper
