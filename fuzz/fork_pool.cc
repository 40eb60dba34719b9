// Forked workers reporting one JSON line per task over a pipe.
#include "fuzz/fork_pool.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
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
  int index = -1;
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
};

// Hands every complete line in the worker's buffer to `on_line`.
absl::Status DrainLines(int w, Worker& worker, const std::function<void(int, Json)>& on_line) {
  absl::Status status;
  for (size_t newline; (newline = worker.buffer.find('\n')) != std::string::npos;) {
    absl::StatusOr<Json> line = Json::Parse(worker.buffer.substr(0, newline));
    worker.buffer.erase(0, newline + 1);
    if (!line.ok()) {
      status = absl::InternalError("a worker wrote a malformed line: " +
                                   std::string(line.status().message()));
      continue;
    }
    on_line(w, std::move(*line));
  }
  return status;
}

// Reads every worker's pipe until all are closed, handing lines over as they complete.
absl::Status ReadUntilClosed(std::vector<Worker>& workers,
                             const std::function<void(int, Json)>& on_line) {
  absl::Status status;
  for (size_t open = workers.size(); open > 0;) {
    std::vector<pollfd> polls;
    std::vector<int> polled;
    for (size_t w = 0; w < workers.size(); ++w) {
      if (workers[w].fd < 0) continue;
      polls.push_back(pollfd{workers[w].fd, POLLIN, 0});
      polled.push_back(static_cast<int>(w));
    }
    if (::poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError("poll failed while reading the workers");
    }
    for (size_t k = 0; k < polls.size(); ++k) {
      if ((polls[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Worker& worker = workers[static_cast<size_t>(polled[k])];
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
      if (absl::Status drained = DrainLines(polled[k], worker, on_line);
          !drained.ok() && status.ok()) {
        status = drained;
      }
    }
  }
  return status;
}

}  // namespace

// How a worker that did not exit with status 0 ended, for the error message.
std::string DescribeEnd(int index, int wait_status) {
  const std::string worker = "worker " + std::to_string(index);
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* name = ::strsignal(signal);
    return worker + " was killed by signal " + std::to_string(signal) +
           (name != nullptr ? std::string(" (") + name + ")" : std::string());
  }
  if (WIFEXITED(wait_status)) {
    return worker + " exited with status " + std::to_string(WEXITSTATUS(wait_status));
  }
  return worker + " ended with wait status " + std::to_string(wait_status);
}

absl::Status ForkWorkers(int worker_count,
                         const std::function<void(int, const EmitLine&)>& produce,
                         const std::function<void(int, Json)>& on_line, std::vector<int>* died) {
  SIM_CHECK(worker_count >= 1 && worker_count <= kForkPoolJobsMax);
  std::vector<Worker> workers(static_cast<size_t>(worker_count));
  std::fflush(nullptr);  // a child must not flush the parent's buffered output again
  absl::Status status;
  for (int w = 0; w < worker_count && status.ok(); ++w) {
    int fds[2];
    if (::pipe(fds) != 0) {
      status = absl::InternalError("pipe failed for a worker");
      break;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      status = absl::InternalError("fork failed for a worker");
      break;
    }
    if (pid == 0) {
      ::close(fds[0]);
      for (const Worker& sibling : workers) {
        if (sibling.fd >= 0) ::close(sibling.fd);  // the parent's ends, not this child's
      }
      const int out = fds[1];
      try {
        produce(w, [out](const Json& line) { return WriteAll(out, line.Dump() + "\n"); });
      } catch (...) {
        ::_exit(1);  // never unwind into the parent's code in a forked child
      }
      ::close(out);
      ::_exit(0);
    }
    ::close(fds[1]);
    workers[static_cast<size_t>(w)].index = w;
    workers[static_cast<size_t>(w)].pid = pid;
    workers[static_cast<size_t>(w)].fd = fds[0];
  }
  std::erase_if(workers, [](const Worker& worker) { return worker.pid < 0; });
  if (absl::Status read = ReadUntilClosed(workers, on_line); !read.ok() && status.ok()) {
    status = read;
  }
  for (Worker& worker : workers) {
    if (worker.fd >= 0) ::close(worker.fd);
    int wait_status = 0;
    const bool exited = ::waitpid(worker.pid, &wait_status, 0) == worker.pid &&
                        WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    if (exited) continue;
    if (died != nullptr) died->push_back(worker.index);
    if (status.ok()) status = absl::InternalError(DescribeEnd(worker.index, wait_status));
  }
  return status;
}

absl::Status RunForked(int jobs, size_t count, const std::function<Json(size_t)>& task,
                       const std::function<void(size_t, Json)>& on_result) {
  SIM_CHECK(jobs <= kForkPoolJobsMax);
  if (jobs <= 1 || count <= 1) {
    for (size_t index = 0; index < count; ++index) on_result(index, RunTask(task, index));
    return absl::OkStatus();
  }
  const size_t worker_count = std::min(static_cast<size_t>(jobs), count);
  std::vector<size_t> reported(worker_count, 0);
  absl::Status status = ForkWorkers(
      static_cast<int>(worker_count),
      [&](int w, const EmitLine& emit) {
        for (size_t index = static_cast<size_t>(w); index < count; index += worker_count) {
          Json line;
          line.Set("task", static_cast<uint64_t>(index));
          line.Set("result", RunTask(task, index));
          if (!emit(line)) return;
        }
      },
      [&](int w, Json line) {
        if (!line["task"].is_number()) return;  // counted as missing below
        ++reported[static_cast<size_t>(w)];
        on_result(static_cast<size_t>(line["task"].AsInt()), line["result"]);
      });
  for (size_t w = 0; w < worker_count && status.ok(); ++w) {
    const size_t expected = (count - w + worker_count - 1) / worker_count;
    if (reported[w] != expected) {
      status = absl::InternalError("a pool worker reported " + std::to_string(reported[w]) +
                                   " of its " + std::to_string(expected) + " tasks");
    }
  }
  return status;
}

}  // namespace storsim::fuzz
