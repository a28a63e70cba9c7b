#include "bench/sampler.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>

namespace ember::bench {
namespace {

constexpr int kDepth = 64;
constexpr size_t kMaxSamples = 50000;

// Filled by the signal handler only: fixed storage, no allocation.
void* g_frames[kMaxSamples][kDepth];
int g_depth[kMaxSamples];
std::atomic<size_t> g_count{0};
timer_t g_timer;

void on_sample(int) {
  const size_t i = g_count.load(std::memory_order_relaxed);
  if (i >= kMaxSamples) return;
  g_depth[i] = backtrace(g_frames[i], kDepth);
  g_count.store(i + 1, std::memory_order_relaxed);
}

}  // namespace

Sampler::Sampler(std::string path, int period_us) : path_(std::move(path)) {
  void* warm[4];
  backtrace(warm, 4);  // the first call loads libgcc's unwinder: not inside the handler
  g_count = 0;
  struct sigaction action {};
  action.sa_handler = on_sample;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGPROF, &action, nullptr) != 0) throw std::runtime_error("sampler: sigaction failed");
  struct sigevent event {};
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = SIGPROF;
  event._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &event, &g_timer) != 0) throw std::runtime_error("sampler: timer_create failed");
  struct itimerspec spec {};
  spec.it_interval.tv_nsec = spec.it_value.tv_nsec = static_cast<long>(period_us) * 1000;
  if (timer_settime(g_timer, 0, &spec, nullptr) != 0) throw std::runtime_error("sampler: timer_settime failed");
  running_ = true;
}

Sampler::~Sampler() { stop(); }

size_t Sampler::stop() {
  if (!running_) return 0;
  running_ = false;
  timer_delete(g_timer);
  signal(SIGPROF, SIG_IGN);
  const size_t n = g_count.load();
  FILE* f = std::fopen(path_.c_str(), "w");
  if (!f) return n;
  for (size_t i = 0; i < n; ++i) {
    // Frames 0 and 1 are the handler and the kernel's signal trampoline.
    for (int d = 2; d < g_depth[i]; ++d) {
      Dl_info info{};
      const auto address = reinterpret_cast<uintptr_t>(g_frames[i][d]);
      if (dladdr(g_frames[i][d], &info) && info.dli_fname) {
        // A return address points after the call: one byte back lies inside it.
        const uintptr_t offset = address - reinterpret_cast<uintptr_t>(info.dli_fbase) - (d > 2 ? 1 : 0);
        if (info.dli_sname)
          std::fprintf(f, "%s%s", d > 2 ? ";" : "", info.dli_sname);
        else
          std::fprintf(f, "%s%s+0x%lx", d > 2 ? ";" : "", info.dli_fname, static_cast<unsigned long>(offset));
      } else {
        std::fprintf(f, "%s?", d > 2 ? ";" : "");
      }
    }
    std::fputc('\n', f);
  }
  std::fclose(f);
  return n;
}

}  // namespace ember::bench
