// Reading whole files and writing files and folders atomically (a temporary file or folder next to
// the target + rename), so that an interrupted run never leaves a broken model or dataset behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tutti::core {

// Reads a whole file; throws tutti::Error naming the file when it cannot be opened or read.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);
std::string read_file_text(const std::filesystem::path& path);

// A temporary file next to `target` that becomes `target` on commit(). If the object is
// destroyed without commit() (an exception, a crash of the writer), the temporary is removed and
// `target` is untouched. The temporary, `.NAME.tmp-PID-N`, is registered for removal on SIGINT /
// SIGTERM (core/signals.h, when the program installed the handler). A process killed outright
// (SIGKILL, power loss) leaves it behind: the first AtomicFile of a later process in that folder
// removes the staging files whose PID is no longer alive and that are older than a minute.
//
// Test hook: when the environment variable TUTTI_TEST_COMMIT_PAUSE_S holds a number of seconds,
// commit() sleeps that long before the rename (so that a test can signal a process while its
// finished temporary waits). Not for any other use.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where to write the content (a unique name in the target's folder).
  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  // fsyncs the temporary and renames it over the target.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
  int signal_slot_ = -1;  // core/signals.h registry
};

// Removes the files and folders `.NAME.tmp-PID-N` (AtomicFile's temporaries, StagingDir's folders)
// in `folder` whose process PID is no longer alive and that were last modified more than
// `min_age_s` seconds ago: what a killed process (SIGKILL, power loss) left. Returns how many it
// removed. AtomicFile and StagingDir call it once per folder and process. Errors (an unreadable folder, a file that vanished) are ignored.
int remove_stale_staging_files(const std::filesystem::path& folder, double min_age_s = 60.0);

// A folder .DIR.tmp-PID-N next to the target DIR, filled by the caller, that becomes DIR on
// publish(). If the object is destroyed without publish() (an exception, a failed step), the
// folder and everything in it are removed and DIR is untouched. The staging folder is registered
// for removal on SIGINT / SIGTERM (core/signals.h); publish() honours AtomicFile's test hook.
//
//   core::StagingDir stage(out_dir);
//   write_everything_into(stage.path());
//   stage.publish(overwrite);
class StagingDir {
 public:
  // Creates the target's parent folders and the staging folder; throws tutti::Error naming the
  // target when it cannot.
  explicit StagingDir(const std::filesystem::path& target);
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& target() const { return target_; }  // absolute

  // Renames `content` (a folder inside path(); the staging folder itself when empty) to the
  // target. An existing target is an error unless `replace`, in which case it is moved aside
  // first, put back if the rename fails, and removed only once the new folder is in place.
  // Whatever else is left in the staging folder is removed. Throws tutti::Error.
  void publish(bool replace, const std::filesystem::path& content = {});

 private:
  std::filesystem::path target_;
  std::filesystem::path path_;
  bool published_ = false;
  int signal_slot_ = -1;  // core/signals.h registry
};

// Writes `data` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view data);

// Lower-case hex MD5 of a file's content (streamed), as md5sum prints it.
std::string md5_file_hex(const std::filesystem::path& path);
// The same of bytes in memory.
std::string md5_hex(std::string_view data);

}  // namespace tutti::core
