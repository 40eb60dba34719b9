// Trace events the safekeeper emits (checkers S10, S11 read them). Every event carries "inc", the
// safekeeper's process incarnation.
//
//   sk.start          {inc, tenants}                     recovery finished, serving
//   sk.append         {inc, tenant, lsn, key}            a record is durable and acknowledged
//   sk.feedback       {inc, shard, node, gen, lsn, accepted}
//                     a remote_consistent_lsn report; accepted=0 when a higher generation of the
//                     shard already reported (it then never moves the horizon)
//   sk.trim           {inc, tenant, trimmed_below, horizon, commit_lsn}
//                     records below trimmed_below were removed durably
//   sk.read_refused   {inc, tenant, from_lsn, trimmed_below}   ReadWal below the trim point
#pragma once

namespace storsim::safekeeper::events {

inline constexpr char kStart[] = "sk.start";
inline constexpr char kAppend[] = "sk.append";
inline constexpr char kFeedback[] = "sk.feedback";
inline constexpr char kTrim[] = "sk.trim";
inline constexpr char kReadRefused[] = "sk.read_refused";

}  // namespace storsim::safekeeper::events
