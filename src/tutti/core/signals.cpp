#include "tutti/core/signals.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace tutti::core {

namespace {

// One registered path. `seq` is a sequence lock: odd while a thread writes the slot, so the handler
// (which may interrupt that thread) copies a path only when seq is even and unchanged around the
// copy, and never reads a half-written one.
struct Slot {
  std::atomic<unsigned> seq{0};
  std::atomic<bool> used{false};  // claimed by a registration (free when false)
  bool folder = false;
  char path[PATH_MAX] = {};
};

Slot g_slots[kMaxStagingPaths];

static_assert(std::atomic<unsigned>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "the handler reads these atomics");

// Removes everything inside the open folder `fd` and below, with raw getdents64 (readdir may
// allocate). A pass that removed something is followed by another from the start, since removing
// entries while reading a folder may skip some. `depth` bounds the recursion (and its stack: one
// 4 KiB buffer per level).
void remove_contents(int fd, int depth) {
  if (depth > 32) return;
  alignas(8) char buf[4096];
  for (int pass = 0; pass < 64; ++pass) {
    bool removed = false;
    ::lseek(fd, 0, SEEK_SET);
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        struct Entry {
          unsigned long long ino;
          long long off;
          unsigned short reclen;
          unsigned char type;
          char name[1];
        };
        const auto* e = reinterpret_cast<const Entry*>(buf + off);
        off += e->reclen;
        const char* name = e->name;
        if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
        if (e->type != DT_DIR && ::unlinkat(fd, name, 0) == 0) {
          removed = true;
          continue;
        }
        const int sub = ::openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) continue;
        remove_contents(sub, depth + 1);
        ::close(sub);
        if (::unlinkat(fd, name, AT_REMOVEDIR) == 0) removed = true;
      }
    }
    if (!removed) return;
  }
}

void remove_path(const char* path, bool folder) {
  if (!folder) {
    ::unlink(path);
    return;
  }
  const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  remove_contents(fd, 0);
  ::close(fd);
  ::rmdir(path);
}

extern "C" void on_signal(int sig) {
  const int saved_errno = errno;
  remove_registered_staging_paths();
  errno = saved_errno;
  // SA_RESETHAND restored the default action: the signal, blocked while this handler runs, is
  // delivered on return and ends the process with the status the parent expects.
  ::raise(sig);
}

}  // namespace

void remove_registered_staging_paths() {
  char local[PATH_MAX];
  for (auto& s : g_slots) {
    const unsigned before = s.seq.load(std::memory_order_acquire);
    if ((before & 1u) != 0 || !s.used.load(std::memory_order_acquire)) continue;
    const bool folder = s.folder;
    std::memcpy(local, s.path, sizeof local);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != before || local[0] == '\0') continue;
    local[sizeof local - 1] = '\0';
    remove_path(local, folder);
  }
}

void install_signal_cleanup() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    // A signal ignored by the parent (nohup, a background job's SIGINT) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

int register_staging_path(const std::filesystem::path& path, bool folder) {
  const std::string& p = path.native();
  if (p.empty() || p.size() >= PATH_MAX) return -1;
  for (std::size_t i = 0; i < kMaxStagingPaths; ++i) {
    Slot& s = g_slots[i];
    bool expected = false;
    if (!s.used.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    s.seq.fetch_add(1, std::memory_order_acq_rel);  // odd: being written
    std::atomic_thread_fence(std::memory_order_release);
    s.folder = folder;
    std::memcpy(s.path, p.c_str(), p.size() + 1);
    s.seq.fetch_add(1, std::memory_order_release);  // even: complete
    return static_cast<int>(i);
  }
  return -1;
}

void unregister_staging_path(int slot) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= kMaxStagingPaths) return;
  Slot& s = g_slots[slot];
  s.seq.fetch_add(1, std::memory_order_acq_rel);
  s.path[0] = '\0';
  s.seq.fetch_add(1, std::memory_order_release);
  s.used.store(false, std::memory_order_release);
}

}  // namespace tutti::core
