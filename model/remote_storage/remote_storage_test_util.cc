// The randomised storage workload shared by the history and determinism tests.
#include "model/remote_storage/remote_storage_test_util.h"

#include <array>

namespace storsim::remote_storage::testing {
namespace {

constexpr int kKeySpace = 40;

std::string RandomBytes(sim::Random& random, size_t size) {
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random.Below(256));  // every byte value, '\0' too
  return bytes;
}

std::string KeyFor(const RemoteStorageClient& client, int index) {
  const WriterAttachment& attachment = client.attachment();
  return WithGenerationSuffix(
      "tenants/" + attachment.tenant_shard + "/layer-" + std::to_string(index),
      attachment.generation);
}

}  // namespace

void RunRandomWorkload(sim::Env& env, RemoteStorageClient& client, int operations,
                       std::vector<AcknowledgedPut>& acknowledged) {
  const RetryPolicy policy{.attempts_max = 4,
                           .backoff_initial = sim::Duration::Millis(50),
                           .backoff_max = sim::Duration::Millis(500),
                           .total_max = sim::Duration::Seconds(5)};
  const std::array<int, 5> weights{40, 25, 10, 10, 15};
  const std::string prefix = "tenants/" + client.attachment().tenant_shard + "/";
  for (int i = 0; i < operations; ++i) {
    const bool retry = env.random().Chance(1, 2);
    const sim::Duration timeout = sim::Duration::Millis(env.random().Range(20, 2000));
    const std::string key = KeyFor(client, static_cast<int>(env.random().Below(kKeySpace)));
    switch (env.random().Weighted(weights)) {
      case 0: {
        std::string bytes = RandomBytes(env.random(), env.random().Below(300));
        auto put = [&] { return client.Put(key, bytes, timeout); };
        absl::StatusOr<uint64_t> hash = retry ? RetryStorageCall(env, policy, put) : put();
        if (hash.ok()) {
          acknowledged.push_back({key, *hash, env.id(), env.incarnation()});
        }
        break;
      }
      case 1: {
        auto get = [&] { return client.Get(key, timeout); };
        (void)(retry ? RetryStorageCall(env, policy, get) : get());
        break;
      }
      case 2: {
        auto remove = [&] { return client.Delete(key, timeout); };
        (void)(retry ? RetryStorageCall(env, policy, remove) : remove());
        break;
      }
      case 3: {
        std::vector<std::string> keys;
        const uint64_t count = 1 + env.random().Below(8);
        for (uint64_t k = 0; k < count; ++k) {
          keys.push_back(KeyFor(client, static_cast<int>(env.random().Below(kKeySpace))));
        }
        auto remove = [&] { return client.DeleteObjects(keys, timeout); };
        (void)(retry ? RetryStorageCall(env, policy, remove) : remove());
        break;
      }
      default: {
        (void)client.ListAll(prefix, timeout);
        break;
      }
    }
    env.Sleep(sim::Duration::Millis(env.random().Range(0, 50)));
  }
}

}  // namespace storsim::remote_storage::testing
