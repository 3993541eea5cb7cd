#include "tutti/core/file_io.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tutti/core/error.h"
#include "tutti/core/signals.h"

namespace tutti::core {

namespace fs = std::filesystem;

std::vector<std::uint8_t> read_file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "{}: cannot open for reading: {}", path.string(), std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  std::vector<std::uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  check(in.good() || size == 0, "{}: read error", path.string());
  return bytes;
}

std::string read_file_text(const fs::path& path) {
  auto bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

namespace {

// The PID in an AtomicFile temporary's name `.NAME.tmp-PID-N`, or 0 when the name is not one.
pid_t staging_file_pid(const std::string& name) {
  if (name.size() < 2 || name[0] != '.') return 0;
  const auto tag = name.rfind(".tmp-");
  if (tag == std::string::npos || tag == 0) return 0;
  const std::string rest = name.substr(tag + 5);  // PID-N
  const auto dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size()) return 0;
  for (std::size_t i = 0; i < rest.size(); ++i)
    if (i != dash && (rest[i] < '0' || rest[i] > '9')) return 0;
  if (dash > 9) return 0;  // no PID has more than 9 digits (pid_max <= 4194304)
  return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
}

// The test hook of file_io.h: a pause before an output is moved into place.
void test_commit_pause() {
  if (const char* pause = std::getenv("TUTTI_TEST_COMMIT_PAUSE_S"); pause && *pause)
    std::this_thread::sleep_for(std::chrono::duration<double>(std::atof(pause)));
}

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

// Stale files are looked for once per folder and process: a folder receiving thousands of outputs
// (synth audio) is not listed again for each.
void remove_stale_once(const fs::path& folder) {
  static std::mutex mu;
  static std::set<fs::path> done;
  std::error_code ec;
  auto key = fs::weakly_canonical(folder, ec);
  if (ec) key = folder;
  {
    std::lock_guard lock(mu);
    if (!done.insert(key).second) return;
  }
  remove_stale_staging_files(folder);
}

// `.NAME.tmp-PID-N` next to `target`: the PID lets a later run remove what a killed one left
// (remove_stale_staging_files), N keeps this process's names apart.
fs::path staging_name(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const auto parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  return parent / fmt::format(".{}.tmp-{}-{}", target.filename().string(), ::getpid(),
                              counter.fetch_add(1));
}

}  // namespace

int remove_stale_staging_files(const fs::path& folder, double min_age_s) {
  int removed = 0;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = staging_file_pid(it->path().filename().string());
    if (pid <= 0 || pid == ::getpid() || process_alive(pid)) continue;
    std::error_code e2;
    const bool folder = it->is_directory(e2);  // a StagingDir left by a killed process
    if (e2 || (!folder && !it->is_regular_file(e2))) continue;
    const auto mtime = it->last_write_time(e2);
    if (e2 || std::chrono::duration<double>(now - mtime).count() < min_age_s) continue;
    if (folder ? fs::remove_all(it->path(), e2) > 0 : fs::remove(it->path(), e2)) ++removed;
  }
  return removed;
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  const auto parent = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  check(fs::is_directory(parent), "{}: output folder does not exist", target_.string());
  remove_stale_once(parent);
  temp_ = staging_name(target_);
  signal_slot_ = register_staging_path(fs::absolute(temp_), /*folder=*/false);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
  unregister_staging_path(signal_slot_);
}

void AtomicFile::commit() {
  const int fd = ::open(temp_.c_str(), O_RDONLY);
  check(fd >= 0, "{}: temporary output vanished before commit", target_.string());
  ::fsync(fd);
  ::close(fd);
  test_commit_pause();
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  check(!ec, "{}: cannot move output into place: {}", target_.string(), ec.message());
  committed_ = true;
  unregister_staging_path(signal_slot_);
  signal_slot_ = -1;
}

namespace {

// A new empty folder TARGET<tag>-XXXXXX (mkdtemp: a unique name, created atomically).
fs::path make_dir_next_to(const fs::path& target, const char* tag) {
  std::string tmpl = target.string() + tag + "-XXXXXX";
  check(::mkdtemp(tmpl.data()) != nullptr, "{}: cannot create a staging folder next to it: {}",
        target.string(), std::strerror(errno));
  return fs::path(tmpl);
}

}  // namespace

StagingDir::StagingDir(const fs::path& target) : target_(fs::absolute(target)) {
  std::error_code ec;
  fs::create_directories(target_.parent_path(), ec);
  check(!ec, "{}: cannot create its parent folder: {}", target_.string(), ec.message());
  remove_stale_once(target_.parent_path());
  // create_directory is atomic and false when the name exists (left by an earlier process
  // that had this PID): try the next number.
  do path_ = staging_name(target_);
  while (!fs::create_directory(path_, ec) && !ec);
  check(!ec, "{}: cannot create a staging folder next to it: {}", target_.string(), ec.message());
  signal_slot_ = register_staging_path(path_, /*folder=*/true);
}

StagingDir::~StagingDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);  // after publish() only what was left beside the content
  unregister_staging_path(signal_slot_);
}

void StagingDir::publish(bool replace, const fs::path& content) {
  check(!published_, "{}: staging folder published twice", target_.string());
  const fs::path from = content.empty() ? path_ : content;
  test_commit_pause();
  std::error_code ec;
  if (fs::exists(target_, ec)) {
    check(replace, "{}: already exists", target_.string());
    const fs::path old = make_dir_next_to(target_, ".old");
    fs::remove(old, ec);
    fs::rename(target_, old, ec);
    check(!ec, "{}: cannot move the old folder aside: {}", target_.string(), ec.message());
    fs::rename(from, target_, ec);
    if (ec) {
      std::error_code ignored;
      fs::rename(old, target_, ignored);  // put the previous folder back
      fail("{}: cannot move the new folder into place: {}", target_.string(), ec.message());
    }
    fs::remove_all(old, ec);
  } else {
    fs::rename(from, target_, ec);
    check(!ec, "{}: cannot move the new folder into place: {}", target_.string(), ec.message());
  }
  published_ = true;
}

void write_file_atomic(const fs::path& path, std::string_view data) {
  AtomicFile f(path);
  {
    std::ofstream out(f.temp_path(), std::ios::binary | std::ios::trunc);
    check(out.good(), "{}: cannot open for writing", path.string());
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    check(out.good(), "{}: write failed (disk full?)", path.string());
  }
  f.commit();
}

namespace {

// MD5 over whatever `feed` passes to its argument, as lower-case hex.
template <typename Feed>
std::string md5_hex_of(Feed&& feed) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  check(ctx && EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) == 1, "md5: OpenSSL init failed");
  feed([&](const char* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

}  // namespace

std::string md5_file_hex(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "{}: cannot open for reading", path.string());
  return md5_hex_of([&](auto&& update) {
    std::vector<char> buf(1 << 16);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      if (in.gcount() > 0) update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
  });
}

std::string md5_hex(std::string_view data) {
  return md5_hex_of([&](auto&& update) { update(data.data(), data.size()); });
}

}  // namespace tutti::core
