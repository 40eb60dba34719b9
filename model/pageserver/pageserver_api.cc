// The page service (GetPage@LSN) and the migration helpers (timeline LSNs, wait_lsn, secondary
// download) of the pageserver.
#include "model/pageserver/events.h"
#include "model/pageserver/pageserver.h"
#include "sim/check.h"

namespace storsim::pageserver {

api::GetPageResponse Pageserver::GetPage(const api::GetPageRequest& request) {
  api::GetPageResponse response;
  auto it = slots_.find(request.shard);
  std::shared_ptr<Timeline> timeline =
      it != slots_.end() ? it->second.timeline : std::shared_ptr<Timeline>();
  int64_t generation = 0;
  if (!re_attached_ || !timeline) {
    response.status = api::Http::kNotFound;  // Secondary, Detached or unknown here
  } else {
    generation = timeline->generation().value();
    if (!timeline->WaitActive(env_->DeadlineAfter(options_.active_wait))) {
      response.status = api::Http::kServiceUnavailable;
    } else if (!timeline->WaitLsn(request.request_lsn,
                                  env_->DeadlineAfter(options_.wait_lsn_timeout))) {
      response.status = timeline->state() == TimelineState::kActive ? api::Http::kRequestTimeout
                                                                    : api::Http::kNotFound;
      if (response.status == api::Http::kRequestTimeout) SIM_MARK("ps.wait_lsn_timeout");
    } else if (timeline->state() != TimelineState::kActive) {
      response.status = api::Http::kNotFound;  // torn down while we waited
    } else {
      response = timeline->Read(request.key, request.request_lsn);
    }
  }
  context_->Emit(events::kGetPage,
                 {sim::TraceField::Str("shard", request.shard.ToString()),
                  sim::TraceField::Int("gen", generation),
                  sim::TraceField::Int("key", static_cast<int64_t>(request.key)),
                  sim::TraceField::Int("lsn", static_cast<int64_t>(request.request_lsn)),
                  sim::TraceField::Int("status", static_cast<int64_t>(response.status)),
                  sim::TraceField::Int("value_lsn", static_cast<int64_t>(response.value_lsn))});
  return response;
}

api::TimelineLsnsResponse Pageserver::TimelineLsns(const api::TimelineLsnsRequest& request) {
  api::TimelineLsnsResponse response;
  auto it = slots_.find(request.shard);
  std::shared_ptr<Timeline> timeline =
      it != slots_.end() ? it->second.timeline : std::shared_ptr<Timeline>();
  if (!timeline || !timeline->WaitActive(env_->DeadlineAfter(options_.active_wait))) {
    response.status = api::Http::kNotFound;
    return response;
  }
  response.timelines.push_back(api::TimelineLsn{options_.timeline_id, timeline->last_record_lsn()});
  return response;
}

api::WaitLsnResponse Pageserver::WaitLsn(const api::WaitLsnRequest& request) {
  api::WaitLsnResponse response;
  auto it = slots_.find(request.shard);
  std::shared_ptr<Timeline> timeline =
      it != slots_.end() ? it->second.timeline : std::shared_ptr<Timeline>();
  const sim::Instant deadline = env_->DeadlineAfter(request.timeout);
  if (!timeline) {
    response.status = api::Http::kNotFound;
    return response;
  }
  if (!timeline->WaitActive(deadline)) {
    response.status = api::Http::kRequestTimeout;
    return response;
  }
  for (const api::TimelineLsn& wanted : request.timelines) {
    if (!timeline->WaitLsn(wanted.last_record_lsn, deadline)) {
      response.status = api::Http::kRequestTimeout;
      return response;
    }
  }
  return response;
}

api::SecondaryDownloadResponse Pageserver::SecondaryDownload(
    const api::SecondaryDownloadRequest& request) {
  api::SecondaryDownloadResponse response;
  auto it = slots_.find(request.shard);
  std::shared_ptr<SecondaryLocation> secondary =
      it != slots_.end() ? it->second.secondary : std::shared_ptr<SecondaryLocation>();
  if (!re_attached_ || !secondary) {
    response.status = api::Http::kNotFound;
    return response;
  }
  return secondary->Download(env_->DeadlineAfter(request.wait));
}

}  // namespace storsim::pageserver
