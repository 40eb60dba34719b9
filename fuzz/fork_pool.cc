// Forked workers reporting one JSON line per task over a pipe.
#include "fuzz/fork_pool.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "sim/check.h"

namespace storsim::fuzz {
namespace {

Json RunTask(const std::function<Json(size_t)>& task, size_t index) {
  try {
    return task(index);
  } catch (const std::exception& error) {
    Json failed;
    failed.Set("error", std::string("task threw: ") + error.what());
    return failed;
  }
}

bool WriteAll(int fd, const std::string& data) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
  size_t expected = 0;  // tasks dealt to this worker
  size_t reported = 0;
};

// Hands every complete line in the worker's buffer to `on_result`.
absl::Status DrainLines(Worker& worker,
                        const std::function<void(size_t, Json)>& on_result) {
  absl::Status status;
  for (size_t newline; (newline = worker.buffer.find('\n')) != std::string::npos;) {
    absl::StatusOr<Json> line = Json::Parse(worker.buffer.substr(0, newline));
    worker.buffer.erase(0, newline + 1);
    if (!line.ok() || !(*line)["task"].is_number()) {
      status = absl::InternalError("a pool worker wrote a malformed line");
      continue;
    }
    ++worker.reported;
    on_result(static_cast<size_t>((*line)["task"].AsInt()), (*line)["result"]);
  }
  return status;
}

}  // namespace

absl::Status RunForked(int jobs, size_t count, const std::function<Json(size_t)>& task,
                       const std::function<void(size_t, Json)>& on_result) {
  SIM_CHECK(jobs <= kForkPoolJobsMax);
  if (jobs <= 1 || count <= 1) {
    for (size_t index = 0; index < count; ++index) on_result(index, RunTask(task, index));
    return absl::OkStatus();
  }
  const size_t worker_count = std::min(static_cast<size_t>(jobs), count);
  std::vector<Worker> workers(worker_count);
  std::fflush(nullptr);  // a child must not flush the parent's buffered output again
  for (size_t w = 0; w < worker_count; ++w) {
    int fds[2];
    if (::pipe(fds) != 0) return absl::InternalError("pipe failed for a pool worker");
    const pid_t pid = ::fork();
    if (pid < 0) return absl::InternalError("fork failed for a pool worker");
    if (pid == 0) {
      ::close(fds[0]);
      for (size_t index = w; index < count; index += worker_count) {
        Json line;
        line.Set("task", static_cast<uint64_t>(index));
        line.Set("result", RunTask(task, index));
        if (!WriteAll(fds[1], line.Dump() + "\n")) ::_exit(1);
      }
      ::close(fds[1]);
      ::_exit(0);
    }
    ::close(fds[1]);
    workers[w].pid = pid;
    workers[w].fd = fds[0];
    workers[w].expected = (count - w + worker_count - 1) / worker_count;
  }
  absl::Status status;
  for (size_t open = worker_count; open > 0;) {
    std::vector<pollfd> polls;
    std::vector<Worker*> polled;
    for (Worker& worker : workers) {
      if (worker.fd < 0) continue;
      polls.push_back(pollfd{worker.fd, POLLIN, 0});
      polled.push_back(&worker);
    }
    if (::poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      status = absl::InternalError("poll failed while reading pool workers");
      break;
    }
    for (size_t k = 0; k < polls.size(); ++k) {
      if ((polls[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Worker& worker = *polled[k];
      char chunk[65536];
      const ssize_t n = ::read(worker.fd, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        ::close(worker.fd);
        worker.fd = -1;
        --open;
        continue;
      }
      worker.buffer.append(chunk, static_cast<size_t>(n));
      if (absl::Status drained = DrainLines(worker, on_result); !drained.ok() && status.ok()) {
        status = drained;
      }
    }
  }
  for (Worker& worker : workers) {
    if (worker.fd >= 0) ::close(worker.fd);
    int wait_status = 0;
    const bool exited = ::waitpid(worker.pid, &wait_status, 0) == worker.pid &&
                        WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    if ((!exited || worker.reported != worker.expected) && status.ok()) {
      status = absl::InternalError("a pool worker died (status " + std::to_string(wait_status) +
                                   ") after " + std::to_string(worker.reported) + " of its " +
                                   std::to_string(worker.expected) + " tasks");
    }
  }
  return status;
}

}  // namespace storsim::fuzz
