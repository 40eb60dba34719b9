// Remote storage and WAL invariants (SPEC.md §10 S6, S8, S10, S13).
//
// S6   NoOverwriteChecker: every generation-suffixed key a pageserver attachment PUTs carries that
//      attachment's generation, and no such key is PUT by two different (node, incarnation)
//      attachments. (Keys without a generation, like heatmaps, are overwritten by design.)
// S8   LayerPresenceChecker: no index that a current or future attachment loads references a
//      missing object (the scrubber's "healthy" check, observed when attachments load and
//      download). An attachment whose generation is below the shard's committed generation at
//      that instant is fenced out (neither current nor future): what it finds missing is not a
//      violation.
// S10  WalRetentionChecker: a remote_consistent_lsn reaches the safekeeper only after it was
//      validated; the safekeeper never trims WAL that the newest index of some shard of the
//      tenant does not cover (a future attachment resumes from that index's disk_consistent_lsn;
//      a child's index left by an aborted split bounds nothing once the split begins again, as
//      that split writes the child's index afresh, at a generation at least as new, before
//      anything attaches the child);
//      no attachment that is not fenced out (generation >= the shard's committed generation at
//      that instant) ever finds the WAL it needs trimmed.
// S13  DeletionBlockingChecker: no remote deletion is executed by a location in AttachedMulti or
//      AttachedStale.
#pragma once

#include "scenarios/invariants/checker.h"

namespace storsim::invariants {

// "t1-0102" -> ("t1", 1, 2); "t1" -> ("t1", 0, 0).
struct ShardParts {
  std::string tenant;
  int shard_number = 0;
  int shard_count = 0;
};
ShardParts ParseShard(std::string_view shard);

// The generation suffix of a remote key ("...-0000000a" -> 10), or nullopt.
std::optional<int64_t> KeyGeneration(std::string_view key);

// Whether an attachment is fenced out: its generation is below the shard's committed generation.
// The committed generation is read from the database view when there is one; the trace gives a
// lower bound either way (every generation handed out, ctl.generation, or attached, ps.attach, was
// committed first), so the larger of the two is used.
class FencedAttachments {
 public:
  explicit FencedAttachments(DbView db) : db_(std::move(db)) {}
  void Observe(const sim::TraceEvent& event);
  // The committed generation of `shard` as far as known, or nullopt.
  std::optional<int64_t> Committed(const std::string& shard) const;
  bool IsFenced(const std::string& shard, int64_t generation) const {
    const std::optional<int64_t> committed = Committed(shard);
    return generation >= 0 && committed && generation < *committed;  // -1: unknown, not fenced
  }

 private:
  DbView db_;
  std::map<std::string, int64_t> seen_;  // shard -> highest generation the trace revealed
};

class NoOverwriteChecker : public Checker {
 public:
  explicit NoOverwriteChecker(ViolationSink sink) : Checker("S6", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  std::map<std::string, std::pair<int64_t, int64_t>> writers_;  // key -> (node, incarnation)
};

class LayerPresenceChecker : public Checker {
 public:
  explicit LayerPresenceChecker(ViolationSink sink, DbView db = {})
      : Checker("S8", std::move(sink)), fenced_(std::move(db)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override {
    return {{"s8_fenced_ignored", fenced_ignored_}};
  }

 private:
  FencedAttachments fenced_;
  int64_t fenced_ignored_ = 0;
};

class WalRetentionChecker : public Checker {
 public:
  explicit WalRetentionChecker(ViolationSink sink, DbView db = {})
      : Checker("S10", std::move(sink)), fenced_(db), db_(std::move(db)) {}
  void OnEvent(const sim::TraceEvent& event) override;
  std::map<std::string, int64_t> Metrics() const override {
    return {{"s10_fenced_gaps_ignored", fenced_ignored_},
            {"s10_child_indexes_before_split", child_indexes_before_split_},
            {"s10_fenced_uploads_while_set_aside", fenced_uploads_while_set_aside_}};
  }

 private:
  FencedAttachments fenced_;
  // Its shard_rows view: a shard without a row (a parent a shard split removed, a deleted
  // tenant) has no future attachment, so its last index bounds nothing.
  DbView db_;
  int64_t fenced_ignored_ = 0;
  struct Index {
    int64_t generation = -1;
    int64_t disk_consistent_lsn = 0;
    // Left by an earlier, aborted attempt at the split that just began again: that split writes
    // the children's index afresh before anything attaches them, so until it does this one bounds
    // nothing (unless the fresh one is older: then this one stays the newest and counts again).
    bool before_split = false;
  };
  int64_t child_indexes_before_split_ = 0;  // metric: entries set aside by a split's begin
  // Metric: uploads of a set-aside child in a fenced generation (an aborted attempt's orphan).
  int64_t fenced_uploads_while_set_aside_ = 0;
  std::map<std::string, Index> newest_index_;  // shard -> newest index uploaded
  // (node, incarnation, shard, generation) -> highest validated lsn.
  std::map<std::tuple<int64_t, int64_t, std::string, int64_t>, int64_t> visible_;
};

class DeletionBlockingChecker : public Checker {
 public:
  explicit DeletionBlockingChecker(ViolationSink sink) : Checker("S13", std::move(sink)) {}
  void OnEvent(const sim::TraceEvent& event) override;

 private:
  std::map<std::pair<int64_t, std::string>, std::string> mode_;  // (node, shard) -> mode
};

}  // namespace storsim::invariants
