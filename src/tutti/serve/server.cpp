#include "tutti/serve/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "tutti/audio/audio_stream.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/core/work_pool.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"
#include "tutti/infer/predictor.h"
#include "tutti/infer/tag.h"
#include "tutti/infer/tag_output.h"
#include "tutti/serve/admission.h"
#include "tutti/serve/metrics.h"
#include "tutti/serve/openapi.h"
#include "tutti/serve/web_assets.h"
#include "tutti/synth/dataset.h"

namespace tutti::serve {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::set<std::string> kRoutes = {"/",           "/app.js",      "/style.css", "/v1/tag",
                                       "/v1/predict", "/v1/model",    "/healthz",   "/readyz",
                                       "/metrics",    "/openapi.json"};

// The time a request's headers were read, for its latency and its time limit. httplib handles a
// request on one thread from its headers to its logging, so a thread_local carries it.
thread_local Clock::time_point t_request_start;
thread_local bool t_request_stamped = false;

// An HTTP error that a handler throws; the answer is {"error", "status"}.
struct HttpError {
  int status;
  std::string message;
};

[[noreturn]] void http_fail(int status, std::string message) {
  throw HttpError{status, std::move(message)};
}

// A socket of this process by its ports: the connection that carries a request (httplib 0.11
// gives handlers no handle on it; only the refusal path looks for it), or, with peer_port -1, the
// listening socket. Found among the process's descriptors.
int socket_fd(int local_port, int peer_port) {
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    int fd = -1;
    const std::string name = e.path().filename().string();
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    sockaddr_storage local{}, peer{};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
    const bool connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0;
    auto port_of = [](const sockaddr_storage& a) -> int {
      if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
      if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
      return -1;
    };
    if (port_of(local) != local_port) continue;
    if (peer_port < 0 ? !connected : connected && port_of(peer) == peer_port) return fd;
  }
  return -1;
}

// After an answer to a request whose body was not read: the answer is complete, so the sending
// side closes (the client sees the end of the answer), and what the client still sends is read
// and dropped for a moment. Closing at once would make the kernel reset the connection, and a
// reset can destroy the answer before the client reads it (nginx's "lingering close").
void linger_close(int fd) {
  if (fd < 0) return;
  ::shutdown(fd, SHUT_WR);
  const auto end = Clock::now() + std::chrono::seconds(2);
  char buf[16384];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return;  // quiet for a second: the client has stopped sending
    if (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return;
  }
}

// A JSON error answer. close: the request's body has not been read, so the connection must end
// after the answer (httplib would otherwise read the body as the next request). Cancelling the
// content provider after the last byte is how httplib 0.11 lets a handler close a connection.
void send_error(const httplib::Request& req, httplib::Response& res, int status,
                const std::string& message, bool close, int retry_after_s = 0) {
  res.status = status;
  if (retry_after_s > 0) res.set_header("Retry-After", std::to_string(retry_after_s));
  auto body = std::make_shared<std::string>(
      core::Json{{"error", message}, {"status", status}}.dump() + "\n");
  if (!close) {
    res.set_content(*body, "application/json");
    return;
  }
  res.set_header("Connection", "close");
  const httplib::Request* r = &req;  // lives until the answer is written
  res.set_content_provider(
      body->size(), "application/json",
      [body, r](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        sink.write(body->data() + offset, length);
        linger_close(socket_fd(r->local_port, r->remote_port));
        return false;
      });
}

void send_json(httplib::Response& res, const core::Json& j) {
  res.status = 200;
  res.set_content(j.dump(2) + "\n", "application/json");
}

double seconds_param(const httplib::Request& req, const std::string& name, double fallback) {
  if (!req.has_param(name.c_str())) return fallback;
  const std::string v = req.get_param_value(name.c_str());
  double x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(x))
    http_fail(400, fmt::format("{}: '{}' is not a number of seconds", name, v));
  return x;
}

// Replaces every occurrence of a server-side path in a library message by what the client knows.
std::string hide_path(std::string message, const std::string& path, const std::string& label) {
  for (std::size_t p; !path.empty() && (p = message.find(path)) != std::string::npos;)
    message.replace(p, path.size(), label);
  return message;
}

// A file in the server's private folder, removed when the request ends.
struct TempFile {
  fs::path path;
  explicit TempFile(fs::path p) : path(std::move(p)) {}
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The label of an upload in answers: the multipart file name's last component, never a path.
std::string upload_label(const std::string& filename) {
  std::string name = fs::path(filename).filename().string();
  std::string out;
  for (char ch : name)
    if (static_cast<unsigned char>(ch) >= 0x20 && ch != '"' && ch != '\\') out += ch;
  return out.empty() ? "upload" : out.substr(0, 200);
}

struct TimeLimitReached {};

}  // namespace

void ServeOptions::validate() const {
  check<UsageError>(!model.empty(), "serve: --model is required");
  check<UsageError>(port >= 0 && port <= 65535, "serve: --port must be in [0, 65535], got {}",
                    port);
  check<UsageError>(workers >= 0, "serve: --workers must be >= 0 (0 = all cores), got {}", workers);
  check<UsageError>(queue >= 0, "serve: --queue must be >= 0, got {}", queue);
  check<UsageError>(connections >= 1, "serve: --connections must be >= 1, got {}", connections);
  check<UsageError>(max_upload_bytes > 0, "serve: --max-upload-mb must be > 0");
  check<UsageError>(time_limit_s > 0 && std::isfinite(time_limit_s),
                    "serve: --time-limit must be > 0 seconds, got {}", time_limit_s);
  check<UsageError>(read_timeout_s > 0 && std::isfinite(read_timeout_s),
                    "serve: --read-timeout must be > 0 seconds, got {}", read_timeout_s);
  check<UsageError>(retry_after_s >= 1, "serve: Retry-After must be >= 1 s, got {}", retry_after_s);
}

struct Server::Impl {
  ServeOptions opt;
  infer::Tagger tagger;
  infer::Predictor predictor;
  std::mutex predict_mu;
  Admission admission;
  Metrics metrics;
  httplib::Server http;
  fs::path tmp_dir;
  std::atomic<std::uint64_t> next_upload{0};
  std::atomic<bool> draining{false}, running{false}, stopped{false};
  std::mutex stop_mu;
  int port = 0;

  Impl(const ServeOptions& o, infer::TagOptions topt)
      : opt(o),
        tagger(o.model, topt),
        predictor(infer::Predictor::load(o.model)),
        admission(o.workers, o.queue) {}

  fs::path new_temp_path() { return tmp_dir / fmt::format("upload-{}", next_upload++); }
  Clock::time_point deadline() const {
    return t_request_start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(opt.time_limit_s));
  }

  void routes();
  void tag(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& rd);
  void predict(const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader& rd);
  core::Json model_json() const;

  // Admits the request or throws 503 (the body is unread: the connection closes).
  std::unique_ptr<Admission::Ticket> admit() {
    auto t = admission.admit();
    if (!t)
      throw HttpError{503, fmt::format("serve: all {} workers busy and {} requests queued; retry "
                                       "later",
                                       opt.workers, opt.queue)};
    return t;
  }
  void acquire_worker(Admission::Ticket& t) {
    if (!t.acquire_worker(deadline()))
      http_fail(503, fmt::format("serve: no worker became free within the time limit of {} s",
                                 opt.time_limit_s));
  }
};

// Counts an upload against the size limit and the time limit while it is read.
namespace {
struct BodyReader {
  const ServeOptions& opt;
  Clock::time_point deadline;
  std::uint64_t bytes = 0;
  bool too_large = false, too_slow = false;
  bool account(std::size_t n) {
    bytes += n;
    if (bytes > opt.max_upload_bytes) too_large = true;
    if (Clock::now() > deadline) too_slow = true;
    return !too_large && !too_slow;
  }
  void check_after(bool ok) const {
    if (too_large)
      throw HttpError{413, fmt::format("serve: upload larger than the limit of {} bytes",
                                       opt.max_upload_bytes)};
    if (too_slow)
      throw HttpError{408, fmt::format("serve: upload not complete within the time limit of {} s",
                                       opt.time_limit_s)};
    if (!ok) http_fail(400, "serve: the request body ended early or is malformed");
  }
};
}  // namespace

void Server::Impl::tag(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& rd) {
  const double start_s = seconds_param(req, "start", 0);
  const double duration_s = seconds_param(req, "duration", -1);
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "tsv" && format != "events")
    http_fail(400, fmt::format("format: '{}' is not one of json, tsv, events", format));
  if (start_s < 0) http_fail(400, fmt::format("start: {} s is negative", start_s));
  if (req.has_param("duration") && duration_s <= 0)
    http_fail(400, fmt::format("duration: {} s is not positive", duration_s));
  auto ticket = admit();

  TempFile upload(new_temp_path());
  std::string label = "upload";
  {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(upload.path.c_str(), "wb"));
    check(f != nullptr, "serve: cannot create a temporary file in {}", tmp_dir.string());
    BodyReader body{opt, deadline()};
    bool write_ok = true;
    auto to_file = [&](const char* data, std::size_t n) {
      if (!body.account(n)) return false;
      write_ok = write_ok && std::fwrite(data, 1, n, f.get()) == n;
      return write_ok;
    };
    bool ok = false;
    if (req.is_multipart_form_data()) {
      bool in_file = false, have_file = false;
      ok = rd(
          [&](const httplib::MultipartFormData& part) {
            in_file = !have_file && (part.name == "file" || !part.filename.empty());
            if (in_file) {
              have_file = true;
              label = upload_label(part.filename);
            }
            return true;
          },
          [&](const char* data, std::size_t n) {
            return in_file ? to_file(data, n) : body.account(n);
          });
      body.check_after(ok);
      if (!have_file) http_fail(400, "serve: the multipart upload has no part named 'file'");
    } else {
      ok = rd(to_file);
      body.check_after(ok);
    }
    check(write_ok && std::fflush(f.get()) == 0, "serve: cannot write the upload to {}",
          tmp_dir.string());
    if (body.bytes == 0) http_fail(400, "serve: the request has no audio in its body");
  }

  acquire_worker(*ticket);
  // Only the part [start, start + duration) is analysed: it is cut from the decoded audio into a
  // second private file, and the times in the answer are relative to `start`.
  std::unique_ptr<TempFile> cut;
  const fs::path* to_tag = &upload.path;
  infer::FileTags tags;
  try {
    if (req.has_param("start") || req.has_param("duration")) {
      const auto wave = audio::load_mono_16k(upload.path);
      const double total_s = static_cast<double>(wave.size()) / audio::kVggishSampleRateHz;
      const auto first =
          static_cast<std::size_t>(std::llround(start_s * audio::kVggishSampleRateHz));
      if (first >= wave.size() && !wave.empty())
        http_fail(400, fmt::format("start: {} s is past the end of the audio ({:.3f} s)", start_s,
                                   total_s));
      std::size_t last = wave.size();
      if (duration_s > 0)
        last = std::min(last, first + static_cast<std::size_t>(
                                          std::llround(duration_s * audio::kVggishSampleRateHz)));
      cut = std::make_unique<TempFile>(new_temp_path());
      synth::write_wav(cut->path,
                       std::span<const float>(wave).subspan(std::min(first, wave.size()),
                                                            last - std::min(first, last)),
                       1, audio::kVggishSampleRateHz, synth::SampleFormat::kFloat);
      to_tag = &cut->path;
    }
    const auto limit = deadline();
    tags = tagger.tag_file(*to_tag, [&] {
      if (Clock::now() > limit) throw TimeLimitReached{};
    });
  } catch (const TimeLimitReached&) {
    http_fail(504, fmt::format("serve: tagging '{}' took longer than the time limit of {} s", label,
                               opt.time_limit_s));
  } catch (const Error& e) {
    std::string msg = hide_path(e.what(), upload.path.string(), label);
    if (cut) msg = hide_path(msg, cut->path.string(), label);
    http_fail(400, msg);
  }
  tags.file = label;
  metrics.add_audio_seconds(tags.duration_s);
  const std::span<const infer::FileTags> one(&tags, 1);
  res.status = 200;
  if (format == "json") {
    core::Json j =
        infer::tags_json(opt.model.filename().string(), tagger.embedder().info().name, one, {});
    if (req.has_param("start") || req.has_param("duration")) j["start_s"] = start_s;
    res.set_content(j.dump(2) + "\n", "application/json");
  } else if (format == "tsv") {
    res.set_content(infer::tags_table(one, '\t'), "text/tab-separated-values; charset=utf-8");
  } else {
    res.set_content(infer::events_tsv(one), "text/tab-separated-values; charset=utf-8");
  }
}

void Server::Impl::predict(const httplib::Request&, httplib::Response& res,
                           const httplib::ContentReader& rd) {
  auto ticket = admit();
  std::string bytes;
  {
    BodyReader body{opt, deadline()};
    const bool ok = rd([&](const char* data, std::size_t n) {
      if (!body.account(n)) return false;
      bytes.append(data, n);
      return true;
    });
    body.check_after(ok);
  }
  if (bytes.empty()) http_fail(400, "serve: the request has no bags in its body");
  const infer::ModelInfo& m = predictor.info();
  const std::int64_t D = m.features.dim;
  const bool u8 = m.features.scaling == "uint8/255";
  data::BagDataset ds;
  const std::string what = "request body";
  try {
    if (bytes.rfind("PK", 0) == 0) {  // .npz: a zip archive
      TempFile f(new_temp_path());
      {
        std::unique_ptr<std::FILE, FileCloser> out(std::fopen(f.path.c_str(), "wb"));
        check(out && std::fwrite(bytes.data(), 1, bytes.size(), out.get()) == bytes.size() &&
                  std::fflush(out.get()) == 0,
              "serve: cannot write a temporary file in {}", tmp_dir.string());
      }
      try {
        ds = data::load_bags(f.path);
      } catch (const Error& e) {
        http_fail(400, hide_path(e.what(), f.path.string(), what));
      }
    } else if (bytes.rfind("\x93NUMPY", 0) == 0) {  // .npy: X as [N, K, D] or one bag [K, D]
      auto a =
          data::parse_npy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), what);
      if (a.shape.size() == 2) a.shape.insert(a.shape.begin(), 1);
      if (a.shape.size() != 3)
        http_fail(400, fmt::format("{}: X has shape {}, expected (N, K, D) or (K, D)", what,
                                   a.shape_str()));
      ds = data::BagDataset::zeros(a.shape[0], a.shape[1], a.shape[2], m.classes,
                                   u8 ? data::FeatureType::kUint8 : data::FeatureType::kFloat32);
      if (u8)
        ds.x_u8 = a.as_u8(what + ": X (the model takes uint8 features)");
      else
        ds.x_f32 = a.as_f32(what + ": X");
      for (auto& n : ds.n_instances) n = static_cast<std::int32_t>(a.shape[1]);
    } else {  // JSON {"bags": [bag, ...]}, bag = [[D values] per instance]
      core::Json j;
      try {
        j = core::Json::parse(bytes);
      } catch (const std::exception&) {
        http_fail(400, fmt::format("{}: neither .npy, .npz nor JSON", what));
      }
      if (!j.is_object() || !j.contains("bags") || !j["bags"].is_array())
        http_fail(
            400,
            fmt::format("{}: JSON needs {{\"bags\": [[[D numbers] per instance] per bag]}}", what));
      const auto& bags = j["bags"];
      std::int64_t K = 0;
      for (const auto& b : bags) {
        if (!b.is_array())
          http_fail(400, fmt::format("{}: a bag is not an array of instances", what));
        K = std::max<std::int64_t>(K, static_cast<std::int64_t>(b.size()));
      }
      ds = data::BagDataset::zeros(static_cast<std::int64_t>(bags.size()), K, D, m.classes,
                                   u8 ? data::FeatureType::kUint8 : data::FeatureType::kFloat32);
      for (std::size_t i = 0; i < bags.size(); ++i) {
        ds.n_instances[i] = static_cast<std::int32_t>(bags[i].size());
        for (std::size_t t = 0; t < bags[i].size(); ++t) {
          const auto& inst = bags[i][t];
          if (!inst.is_array() || static_cast<std::int64_t>(inst.size()) != D)
            http_fail(400, fmt::format("{}: bag {} instance {} is not an array of {} numbers "
                                       "(the model's feature dimension)",
                                       what, i, t, D));
          for (std::int64_t d = 0; d < D; ++d) {
            const auto& v = inst[static_cast<std::size_t>(d)];
            if (!v.is_number())
              http_fail(400, fmt::format("{}: bag {} instance {} value {} is not a number", what, i,
                                         t, d));
            const double x = v.get<double>();
            const auto at = (i * static_cast<std::size_t>(K) + t) * static_cast<std::size_t>(D) +
                            static_cast<std::size_t>(d);
            if (u8) {
              if (!(x >= 0 && x <= 255 && x == std::floor(x)))
                http_fail(400, fmt::format("{}: bag {} instance {} value {} is {}; the model takes "
                                           "uint8 features (integers 0..255)",
                                           what, i, t, d, x));
              ds.x_u8[at] = static_cast<std::uint8_t>(x);
            } else {
              ds.x_f32[at] = static_cast<float>(x);
            }
          }
        }
      }
    }
    for (std::size_t i = 0; i < ds.keys.size(); ++i)
      if (ds.keys[i].empty()) ds.keys[i] = std::to_string(i);
    acquire_worker(*ticket);
    infer::Predictions p;
    {
      std::lock_guard lock(predict_mu);
      p = predictor.predict(ds, false, 1, what);
    }
    core::Json scores = core::Json::array();
    for (std::int64_t i = 0; i < p.n; ++i) {
      core::Json row = core::Json::array();
      for (std::int64_t c = 0; c < p.c; ++c) row.push_back(p.score(i, c));
      scores.push_back(std::move(row));
    }
    send_json(res, {{"classes", m.classes}, {"keys", ds.keys}, {"scores", scores}});
  } catch (const Error& e) {
    http_fail(400, e.what());
  }
}

core::Json Server::Impl::model_json() const {
  const infer::ModelInfo& m = tagger.model();
  core::Json thresholds = core::Json::object();
  for (std::size_t c = 0; c < m.classes.size(); ++c) thresholds[m.classes[c]] = m.thresholds[c];
  const core::Json card = m.to_json();
  return {{"file", opt.model.filename().string()},
          {"model", m.spec.name},
          {"classes", m.classes},
          {"thresholds", thresholds},
          {"embedder", tagger.embedder().info().name},
          {"features", card.value("features", core::Json::object())},
          {"training", card.value("training", core::Json::object())},
          {"train_config", m.train_config},
          {"tutti_version", m.tutti_version}};
}

void Server::Impl::routes() {
  // Every handler's HttpError becomes its JSON answer. A request refused before its body was read
  // completely (admission, bad parameters, limits) ends its connection: the rest is never read.
  auto with_body = [this](void (Impl::*method)(const httplib::Request&, httplib::Response&,
                                               const httplib::ContentReader&)) {
    return [this, method](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& rd) {
      bool body_read = false;
      const httplib::ContentReader counting(
          [&](httplib::ContentReceiver r) { return body_read = rd(std::move(r)); },
          [&](httplib::MultipartContentHeader h, httplib::ContentReceiver r) {
            return body_read = rd(std::move(h), std::move(r));
          });
      try {
        (this->*method)(req, res, counting);
      } catch (const HttpError& e) {
        send_error(req, res, e.status, e.message, !body_read,
                   e.status == 503 ? opt.retry_after_s : 0);
      } catch (const std::exception& e) {
        send_error(req, res, 500, fmt::format("serve: {}", e.what()), !body_read);
      }
    };
  };
  http.Post("/v1/tag", httplib::Server::HandlerWithContentReader(with_body(&Impl::tag)));
  http.Post("/v1/predict", httplib::Server::HandlerWithContentReader(with_body(&Impl::predict)));
  // A POST without a body never reaches a content-reader handler.
  http.Post("/v1/(tag|predict)",
            httplib::Server::Handler([](const httplib::Request& req, httplib::Response& res) {
              send_error(req, res, 400, "serve: the request has no body", false);
            }));
  http.Get("/v1/(tag|predict)", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "POST");
    send_error(req, res, 405, fmt::format("serve: {} takes POST", req.path), false);
  });
  http.Get("/v1/model", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, model_json());
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "ok"}});
  });
  http.Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
    if (draining)
      send_error(req, res, 503, "serve: shutting down", false);
    else
      send_json(res, {{"status", "ready"}, {"model", opt.model.filename().string()}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(admission.admitted(), admission.waiting()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/openapi.json", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, openapi_json(model_json()));
  });
  http.Get("/(|app\\.js|style\\.css)", [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset(req.path);
    if (!a) return send_error(req, res, 404, fmt::format("serve: no page at {}", req.path), false);
    res.set_content(std::string(a->body), std::string(a->content_type).c_str());
  });

  // A body announced larger than the limit is refused from its headers, before any of it is read.
  auto refuse_too_large = [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("Content-Length")) return false;
    const std::string v = req.get_header_value("Content-Length");
    std::uint64_t n = 0;
    const auto ec = std::from_chars(v.data(), v.data() + v.size(), n).ec;
    if (ec != std::errc::result_out_of_range && !(ec == std::errc() && n > opt.max_upload_bytes))
      return false;
    send_error(req, res, 413,
               fmt::format("serve: upload of {} bytes is larger than the limit of {} bytes", v,
                           opt.max_upload_bytes),
               true);
    return true;
  };
  http.set_pre_routing_handler(
      [refuse_too_large](const httplib::Request& req, httplib::Response& res) {
        t_request_start = Clock::now();
        t_request_stamped = true;
        return refuse_too_large(req, res) ? httplib::Server::HandlerResponse::Handled
                                          : httplib::Server::HandlerResponse::Unhandled;
      });
  // curl and others ask before sending a large body: answer 413 then, so it is never sent.
  http.set_expect_100_continue_handler(
      [refuse_too_large](const httplib::Request& req, httplib::Response& res) {
        return refuse_too_large(req, res) ? 413 : 100;
      });
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) return;
    send_error(req, res, res.status,
               res.status == 404 ? fmt::format("serve: no route {} {}", req.method, req.path)
                                 : fmt::format("serve: bad request (HTTP {})", res.status),
               false);
  });
  // Runs on every answer just before it is written (httplib's logger runs after, so a client
  // could read /metrics before its previous request was counted).
  http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // httplib announces keep-alive on every answer; one that closes its connection must not.
    if (res.get_header_value("Connection") == "close") res.headers.erase("Keep-Alive");
    const double s = t_request_stamped
                         ? std::chrono::duration<double>(Clock::now() - t_request_start).count()
                         : 0.0;
    t_request_stamped = false;
    metrics.record(kRoutes.count(req.path) ? req.path : "other", res.status, s);
  });
}

Server::Server(const ServeOptions& options) {
  ServeOptions o = options;
  o.validate();
  if (o.workers == 0) o.workers = static_cast<int>(core::core_count());
  infer::TagOptions topt;
  topt.embedder_options.vggish_file = o.vggish;
  impl_ = std::make_unique<Impl>(o, topt);
  Impl& im = *impl_;

  std::string tmpl = (fs::temp_directory_path() / "tutti-serve-XXXXXX").string();
  check(::mkdtemp(tmpl.data()) != nullptr, "serve: cannot create a temporary folder in {}",
        fs::temp_directory_path().string());
  im.tmp_dir = tmpl;

  const int connections = o.connections;
  im.http.new_task_queue = [connections] {
    return new httplib::ThreadPool(static_cast<std::size_t>(connections));
  };
  const auto whole = [](double s) { return static_cast<time_t>(s); };
  const auto micro = [](double s) {
    return static_cast<time_t>(std::llround((s - std::floor(s)) * 1e6));
  };
  im.http.set_read_timeout(whole(o.read_timeout_s), micro(o.read_timeout_s));
  im.http.set_write_timeout(whole(o.read_timeout_s), micro(o.read_timeout_s));
  // An idle keep-alive connection holds a connection thread; a short wait frees it soon (and
  // bounds how long a shutdown waits for idle clients).
  im.http.set_keep_alive_timeout(2);
  im.http.set_keep_alive_max_count(1000);
  im.http.set_payload_max_length(static_cast<std::size_t>(o.max_upload_bytes));
  im.routes();
  // httplib's default sets SO_REUSEPORT, which lets a second server bind a port another one
  // listens on (the two then share the connections); SO_REUSEADDR alone still allows a restart
  // while old connections linger in TIME_WAIT, and makes a busy port an error.
  im.http.set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  if (o.port == 0) {
    im.port = im.http.bind_to_any_port(o.host);
    check(im.port > 0, "serve: cannot listen on {} (any port)", o.host);
  } else {
    check(im.http.bind_to_port(o.host, o.port), "serve: cannot listen on {}:{}", o.host, o.port);
    im.port = o.port;
  }
  // httplib listens with a backlog of 5: clients that reconnect after each refusal overflow it and
  // the kernel then resets their connections. Listening again on the socket raises the backlog.
  const int listen_fd = socket_fd(im.port, -1);
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
}

Server::~Server() {
  if (!impl_) return;
  std::error_code ec;
  fs::remove_all(impl_->tmp_dir, ec);
}

int Server::port() const { return impl_->port; }
const ServeOptions& Server::options() const { return impl_->opt; }

void Server::run() {
  Impl& im = *impl_;
  im.running = true;
  if (!im.draining) im.http.listen_after_bind();
  im.running = false;
}

void Server::shutdown() {
  Impl& im = *impl_;
  im.draining = true;
  // run() may be starting: wait until it listens (or has returned) before stopping it.
  while (im.running && !im.http.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::lock_guard lock(im.stop_mu);
  if (!im.stopped && im.http.is_running()) {
    im.stopped = true;
    im.http.stop();
  }
}

}  // namespace tutti::serve
