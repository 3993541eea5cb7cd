// Cleanup on SIGINT, SIGTERM and SIGHUP: the staging files and folders of this process (the
// temporaries of core::AtomicFile and core::StagingDir, which register themselves here) are removed
// and the process then dies of the signal as it would have without a handler (a shell reports 130
// for SIGINT, 143 for SIGTERM). Without the handler an interrupted write leaves its hidden
// `.NAME.tmp-PID-N` file behind.
//
//   int main(int argc, char** argv) {
//     tutti::core::install_signal_cleanup();   // once, before any work
//     ...
//   }
//
// The registry is a fixed table (kMaxStagingPaths slots of PATH_MAX bytes) read by the handler
// without locks or allocation: only async-signal-safe calls (unlink, openat, getdents64, unlinkat)
// run inside it. A path that does not fit a free slot is simply not cleaned up on a signal (the
// next run in its folder removes stale files, AtomicFile).
#pragma once

#include <cstddef>
#include <filesystem>

namespace tutti::core {

inline constexpr std::size_t kMaxStagingPaths = 64;

// Installs the handler for SIGINT, SIGTERM and SIGHUP (once; later calls do nothing). Library code
// never calls it: the program that wants cleanup on signals does.
void install_signal_cleanup();

// Registers a staging file (`folder` = false) or folder (removed with everything in it) for
// removal on a signal. Returns a slot for unregister_staging_path, or -1 when the table is full.
// Thread-safe; costs no allocation.
int register_staging_path(const std::filesystem::path& path, bool folder);

// Forgets slot (from register_staging_path; -1 is ignored), e.g. once the file has been renamed
// into place.
void unregister_staging_path(int slot);

// What the handler does, callable outside a handler (tests): removes every registered path.
void remove_registered_staging_paths();

}  // namespace tutti::core
