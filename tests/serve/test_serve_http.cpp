// `tutti serve` over real HTTP on a loopback port: every route, every error status, the limits
// (upload size, queue, time), clients that drop or crawl, and the SIGTERM drain. The answers are
// compared with what `tutti tag` and `tutti predict` print for the same inputs.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "serve_test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"

namespace tutti::testing {
namespace {

using core::Json;

httplib::Client client(const ServerProcess& s) {
  httplib::Client c("127.0.0.1", s.port());
  c.set_read_timeout(60, 0);
  return c;
}

Json json_of(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no answer";
  return r ? Json::parse(r->body) : Json();
}

// One shared server for the routes that need no special limits.
class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess({"--workers", "2"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static ServerProcess* server_;
};
ServerProcess* Serve::server_ = nullptr;

TEST_F(Serve, HealthReadyModelOpenApiAndPage) {
  auto c = client(*server_);
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json_of(r)["status"], "ok");
  r = c.Get("/readyz");
  EXPECT_EQ(r->status, 200);
  r = c.Get("/v1/model");
  ASSERT_EQ(r->status, 200);
  const Json m = json_of(r);
  EXPECT_EQ(m["model"], "att");
  EXPECT_EQ(m["embedder"], "logmel-stats");
  EXPECT_EQ(m["classes"], (Json{"drums", "piano"}));
  EXPECT_TRUE(m["thresholds"].contains("piano"));
  EXPECT_GT(m["training"]["n_train"].get<int>(), 0);
  r = c.Get("/openapi.json");
  ASSERT_EQ(r->status, 200);
  const Json api = json_of(r);
  EXPECT_EQ(api["openapi"], "3.0.3");
  for (const char* p :
       {"/v1/tag", "/v1/predict", "/v1/model", "/healthz", "/readyz", "/metrics", "/openapi.json"})
    EXPECT_TRUE(api["paths"].contains(p)) << p;
  r = c.Get("/");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("app.js"), std::string::npos);
  EXPECT_EQ(r->body, read_bytes(source_dir() / "src/tutti/serve/web/index.html"));
  r = c.Get("/app.js");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, read_bytes(source_dir() / "src/tutti/serve/web/app.js"));
  r = c.Get("/style.css");
  EXPECT_EQ(r->status, 200);
}

TEST_F(Serve, TagEqualsTheCli) {
  const auto& m = serve_model();
  const auto cli = run_cli({"tag", "--model", m.model.string(), m.clip.string(), "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const Json expect = Json::parse(cli.out)["files"][m.clip.string()];
  const std::string wav = read_bytes(m.clip);

  auto c = client(*server_);
  // Raw body.
  auto r = c.Post("/v1/tag", wav, "audio/wav");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = json_of(r);
  EXPECT_EQ(j["model"], "att.tutti");
  EXPECT_EQ(j["embedder"], "logmel-stats");
  EXPECT_EQ(j["failures"], Json::array());
  EXPECT_EQ(j["files"]["upload"], expect);
  EXPECT_EQ(expect["timeline"].size(), 10u);
  // Multipart: the file name is the key (its last component only).
  httplib::MultipartFormDataItems items = {{"file", wav, "../x/clip10.wav", "audio/wav"}};
  r = c.Post("/v1/tag", items);
  ASSERT_EQ(r->status, 200) << r->body;
  j = json_of(r);
  ASSERT_TRUE(j["files"].contains("clip10.wav")) << j.dump();
  EXPECT_EQ(j["files"]["clip10.wav"], expect);

  // TSV = `tutti tag --csv` with tabs (no field here has a comma).
  const auto csv = run_cli({"tag", "--model", m.model.string(), m.clip.string(), "--csv"});
  ASSERT_EQ(csv.exit_code, 0);
  std::string tsv = csv.out;
  for (char& ch : tsv) ch = ch == ',' ? '\t' : ch;
  for (std::size_t p; (p = tsv.find(m.clip.string())) != std::string::npos;)
    tsv.replace(p, m.clip.string().size(), "upload");
  r = c.Post("/v1/tag?format=tsv", wav, "audio/wav");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, tsv);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/tab-separated-values; charset=utf-8");

  // Events: one row per segment of the JSON answer.
  r = c.Post("/v1/tag?format=events", wav, "audio/wav");
  ASSERT_EQ(r->status, 200);
  std::string rows = "file\tinstrument\tonset_s\toffset_s\n";
  for (const auto& s : expect["segments"])
    rows += fmt::format("upload\t{}\t{:.2f}\t{:.2f}\n", s["instrument"].get<std::string>(),
                        s["start_s"].get<double>(), s["end_s"].get<double>());
  EXPECT_EQ(r->body, rows);
}

TEST_F(Serve, TagStartAndDuration) {
  const std::string wav = read_bytes(serve_model().clip);
  auto c = client(*server_);
  auto r = c.Post("/v1/tag?start=2&duration=5", wav, "audio/wav");
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = json_of(r);
  EXPECT_EQ(j["start_s"], 2.0);
  EXPECT_NEAR(j["files"]["upload"]["duration_s"].get<double>(), 5.0, 1e-6);
  EXPECT_EQ(j["files"]["upload"]["n_instances"], 5);
  r = c.Post("/v1/tag?start=7.5", wav, "audio/wav");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NEAR(json_of(r)["files"]["upload"]["duration_s"].get<double>(), 2.5, 1e-6);
  r = c.Post("/v1/tag?start=11", wav, "audio/wav");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(json_of(r)["error"].get<std::string>().find("past the end of the audio (10.000 s)"),
            std::string::npos)
      << r->body;
}

TEST_F(Serve, BadRequestsAreJsonErrors) {
  auto c = client(*server_);
  auto expect_error = [&](const httplib::Result& r, int status, const std::string& part) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const Json j = Json::parse(r->body);
    EXPECT_EQ(j["status"], status);
    EXPECT_NE(j["error"].get<std::string>().find(part), std::string::npos) << r->body;
  };
  const std::string wav = read_bytes(serve_model().clip);
  expect_error(c.Post("/v1/tag", "this is not audio", "audio/wav"), 400,
               "audio: upload: not a recognised audio file");
  expect_error(c.Post("/v1/tag", httplib::MultipartFormDataItems{{"file", "junk", "a.mp3", ""}}),
               400, "audio: a.mp3:");
  expect_error(c.Post("/v1/tag", httplib::MultipartFormDataItems{{"other", "x", "", ""}}), 400,
               "no part named 'file'");
  expect_error(c.Post("/v1/tag", "", "audio/wav"), 400, "no audio in its body");
  expect_error(c.Post("/v1/tag?format=xml", wav, "audio/wav"), 400,
               "format: 'xml' is not one of json, tsv, events");
  expect_error(c.Post("/v1/tag?start=abc", wav, "audio/wav"), 400,
               "start: 'abc' is not a number of seconds");
  expect_error(c.Post("/v1/tag?start=-1", wav, "audio/wav"), 400, "start: -1 s is negative");
  expect_error(c.Post("/v1/tag?duration=0", wav, "audio/wav"), 400,
               "duration: 0 s is not positive");
  expect_error(c.Get("/v1/tag"), 405, "/v1/tag takes POST");
  expect_error(c.Get("/nothing/here"), 404, "no route GET /nothing/here");
  expect_error(c.Post("/v1/predict", "{\"bags\": 3}", "application/json"), 400, "\"bags\"");
  expect_error(c.Post("/v1/predict", "{\"bags\": [[[1, 2]]]}", "application/json"), 400,
               "bag 0 instance 0 is not an array of 128 numbers");
  expect_error(c.Post("/v1/predict", "{\"bags\": [[[" + std::string(127 * 2, ' ') + "]]]}",
                      "application/json"),
               400, "not an array of 128");
  std::string bad = "{\"bags\": [[[0.5";
  for (int i = 1; i < 128; ++i) bad += ",0";
  expect_error(c.Post("/v1/predict", bad + "]]]}", "application/json"), 400,
               "bag 0 instance 0 value 0 is 0.5; the model takes uint8 features");
  expect_error(c.Post("/v1/predict", "PK\x03\x04garbage", "application/octet-stream"), 400,
               "request body");
  expect_error(c.Post("/v1/predict", "\x93NUMPY garbage", "application/octet-stream"), 400,
               "request body");
  // Nothing of the requests stays on disk.
  for (const auto& e : server_->temp_entries()) EXPECT_TRUE(fs::is_directory(e)) << e;
}

TEST_F(Serve, PredictEqualsTheCli) {
  const auto& m = serve_model();
  TempDir d;
  const auto out = d / "pred.npz";
  const auto cli = run_cli({"predict", m.model.string(), m.npz.string(), "-o", out.string()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto expect = data::read_npz(out).at("scores").as_f32("scores");
  const auto ds = data::load_bags(m.npz);
  auto c = client(*server_);
  auto check_scores = [&](const Json& j, std::int64_t n) {
    ASSERT_EQ(j["classes"], (Json{"drums", "piano"})) << j.dump();
    ASSERT_EQ(j["scores"].size(), static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < 2; ++k)
        EXPECT_NEAR(j["scores"][i][k].get<float>(), expect[static_cast<std::size_t>(i * 2 + k)],
                    1e-6)
            << i << "," << k;
  };
  // .npz body: the keys come from the dataset.
  auto r = c.Post("/v1/predict", read_bytes(m.npz), "application/octet-stream");
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = json_of(r);
  check_scores(j, ds.size());
  EXPECT_EQ(j["keys"][3], ds.keys[3]);
  // .npy body of the X array (all clips have K = 3 instances here).
  for (auto n : ds.n_instances) ASSERT_EQ(n, ds.max_instances);
  const auto npy =
      data::serialize_npy(data::NpyArray::from_u8({ds.size(), ds.max_instances, ds.dim}, ds.x_u8));
  r = c.Post("/v1/predict", std::string(npy.begin(), npy.end()), "application/octet-stream");
  ASSERT_EQ(r->status, 200) << r->body;
  check_scores(json_of(r), ds.size());
  // JSON: the first two bags.
  Json bags = Json::array();
  for (int i = 0; i < 2; ++i) {
    Json bag = Json::array();
    for (std::int64_t t = 0; t < ds.max_instances; ++t) {
      Json inst = Json::array();
      for (std::int64_t d2 = 0; d2 < ds.dim; ++d2)
        inst.push_back(ds.x_u8[static_cast<std::size_t>((i * ds.max_instances + t) * ds.dim + d2)]);
      bag.push_back(inst);
    }
    bags.push_back(bag);
  }
  r = c.Post("/v1/predict", Json{{"bags", bags}}.dump(), "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  check_scores(json_of(r), 2);
}

TEST_F(Serve, MetricsCountRequestsByRouteAndStatus) {
  auto c = client(*server_);
  const std::string wav = read_bytes(serve_model().clip);
  ASSERT_EQ(c.Post("/v1/tag", wav, "audio/wav")->status, 200);
  ASSERT_EQ(c.Get("/nope")->status, 404);
  const auto r = c.Get("/metrics");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& t = r->body;
  auto value = [&](const std::string& series) {
    const auto p = t.find("\n" + series + " ");
    EXPECT_NE(p, std::string::npos) << series << "\n" << t;
    return p == std::string::npos ? -1.0 : std::stod(t.substr(p + series.size() + 2));
  };
  EXPECT_GE(value("tutti_http_requests_total{route=\"/v1/tag\",status=\"200\"}"), 1);
  EXPECT_GE(value("tutti_http_requests_total{route=\"other\",status=\"404\"}"), 1);
  EXPECT_GE(value("tutti_audio_seconds_total"), 10.0);
  EXPECT_EQ(value("tutti_requests_in_flight"), 0);
  EXPECT_EQ(value("tutti_queue_length"), 0);
  const double count = value("tutti_http_request_duration_seconds_count");
  EXPECT_EQ(value("tutti_http_request_duration_seconds_bucket{le=\"+Inf\"}"), count);
  EXPECT_LE(value("tutti_http_request_duration_seconds_bucket{le=\"0.005\"}"),
            value("tutti_http_request_duration_seconds_bucket{le=\"30\"}"));
  EXPECT_NE(t.find("# TYPE tutti_http_request_duration_seconds histogram\n"), std::string::npos);
}

TEST(ServeLimits, UploadAboveTheLimitIsRefusedBeforeItsBody) {
  ServerProcess s({"--max-upload-mb", "0.0625"});  // 64 KiB
  // Headers announcing 300 MB and no body at all: the answer comes anyway, and the connection
  // closes (the body is never read).
  RawClient raw(s.port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.send("POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\n"));
  const std::string answer = raw.read_until_close(10);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_NE(answer.find("larger than the limit of 65536 bytes"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_TRUE(raw.closed_by_peer());
  // A body just above the limit from a normal client.
  auto c = client(s);
  auto r = c.Post("/v1/tag", std::string(65537, 'x'), "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Chunked, without a length: refused once the count passes the limit.
  RawClient chunked(s.port());
  std::string req = "POST /v1/tag HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) req += "4000\r\n" + std::string(0x4000, 'y') + "\r\n";
  ASSERT_TRUE(chunked.send(req));
  const std::string a2 = chunked.read_until_close(10);
  EXPECT_EQ(a2.rfind("HTTP/1.1 413", 0), 0u) << a2;
  // Just below the limit is read (and is no audio).
  r = c.Post("/v1/tag", std::string(65536, 'x'), "audio/wav");
  EXPECT_EQ(r->status, 400);
}

TEST(ServeLimits, FullQueueGives503WithRetryAfter) {
  ServerProcess s({"--workers", "1", "--queue", "0"});
  // An upload in progress holds the only place.
  RawClient slow(s.port());
  ASSERT_TRUE(slow.send("POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto c = client(s);
  auto r = c.Post("/v1/tag", read_bytes(serve_model().clip), "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_NE(json_of(r)["error"].get<std::string>().find("retry later"), std::string::npos);
  // Routes that need no worker still answer.
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  const auto m = c.Get("/metrics");
  EXPECT_NE(m->body.find("\ntutti_requests_in_flight 1\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("\ntutti_queue_length 1\n"), std::string::npos);
  // The place frees when the upload completes.
  ASSERT_TRUE(slow.send(std::string(997, 'z')));
  const std::string a = slow.read_until_close(3);
  EXPECT_EQ(a.rfind("HTTP/1.1 400", 0), 0u) << a;
  r = c.Post("/v1/tag", read_bytes(serve_model().clip), "audio/wav");
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(ServeLimits, TimeLimitGives408ForSlowUploads) {
  ServerProcess s({"--time-limit", "0.5"});
  RawClient slow(s.port());
  ASSERT_TRUE(slow.send("POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(slow.send(std::string(100, 'z')));
  const std::string a = slow.read_until_close(5);
  EXPECT_EQ(a.rfind("HTTP/1.1 408", 0), 0u) << a;
  EXPECT_NE(a.find("upload not complete within the time limit of 0.5 s"), std::string::npos);
  EXPECT_TRUE(slow.closed_by_peer());
}

TEST(ServeLimits, TimeLimitGives504ForLongWork) {
  ServerProcess s({"--time-limit", "0.3"});
  // An hour of 8 kHz mono audio (58 MB) uploads in tens of milliseconds on loopback and takes
  // about a second to tag.
  TempDir d;
  write_sndfile(d / "long.wav", test_music(3600, 3, 8000, 1), 8000, 1,
                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  auto c = client(s);
  auto r = c.Post("/v1/tag", read_bytes(d / "long.wav"), "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body.substr(0, 300);
  EXPECT_NE(json_of(r)["error"].get<std::string>().find("took longer than the time limit of 0.3 s"),
            std::string::npos);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

TEST(ServeClients, DisconnectMidUploadLeavesNothingBehind) {
  ServerProcess s({"--workers", "1"});
  const std::string wav = read_bytes(serve_model().clip);
  for (int i = 0; i < 3; ++i) {
    RawClient raw(s.port());
    ASSERT_TRUE(raw.send("POST /v1/tag HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                         std::to_string(wav.size()) + "\r\n\r\n" + wav.substr(0, wav.size() / 2)));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    raw.close();
  }
  // The dropped uploads released their places (none in flight), the temporaries are gone.
  auto c = client(s);
  for (int i = 0; i < 250; ++i) {  // the answers to the dropped clients are logged when written
    const auto m = c.Get("/metrics");
    if (m && m->body.find("\ntutti_requests_in_flight 0\n") != std::string::npos &&
        m->body.find("route=\"/v1/tag\",status=\"400\"} 3") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto r = c.Post("/v1/tag", wav, "audio/wav");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  for (const auto& e : s.temp_entries()) EXPECT_TRUE(fs::is_directory(e)) << e;
  const auto m = c.Get("/metrics");
  EXPECT_NE(m->body.find("route=\"/v1/tag\",status=\"400\"} 3"), std::string::npos) << m->body;
}

TEST(ServeClients, SlowHeadersDoNotBlockOthers) {
  ServerProcess s({"--workers", "1"});
  const std::string wav = read_bytes(serve_model().clip);
  const std::string head =
      "POST /v1/tag?format=tsv HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav"
      "\r\nContent-Length: " +
      std::to_string(wav.size()) + "\r\n\r\n";
  std::atomic<int> answered{0};
  std::string slow_answer;
  std::thread slow([&] {
    RawClient raw(s.port());
    for (char ch : head) {  // one byte every 20 ms: about 1.6 s of headers
      raw.send(std::string(1, ch));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    raw.send(wav);
    slow_answer = raw.read_until_close(3);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto c = client(s);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto r = c.Post("/v1/tag", wav, "audio/wav");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    ++answered;
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  slow.join();
  EXPECT_EQ(answered, 5);
  // The five were answered while the slow client was still sending its headers.
  EXPECT_LT(took, 1.0);
  EXPECT_EQ(slow_answer.rfind("HTTP/1.1 200", 0), 0u) << slow_answer;
  EXPECT_NE(slow_answer.find("upload\tpiano\t"), std::string::npos) << slow_answer;
}

TEST(ServeShutdown, SigtermFinishesRequestsInFlightThenExitsZero) {
  ServerProcess s;
  const std::string wav = read_bytes(serve_model().clip);
  RawClient in_flight(s.port());
  ASSERT_TRUE(in_flight.send("POST /v1/tag?format=tsv HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                             std::to_string(wav.size()) + "\r\n\r\n" + wav.substr(0, 1000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(::kill(s.pid(), SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // New connections are refused once the listening socket is closed.
  RawClient late(s.port());
  EXPECT_FALSE(late.connected());
  // The request in flight completes and is answered.
  ASSERT_TRUE(in_flight.send(wav.substr(1000)));
  const std::string a = in_flight.read_until_close(5);
  EXPECT_EQ(a.rfind("HTTP/1.1 200", 0), 0u) << a;
  EXPECT_NE(a.find("upload\tdrums\t"), std::string::npos) << a;
  EXPECT_EQ(s.wait_exit(10), 0) << s.err();
  EXPECT_NE(s.err().find("SIGTERM: finishing the requests in flight"), std::string::npos);
  EXPECT_TRUE(s.temp_entries().empty());  // its private folder is removed
}

TEST(ServeOptionsCli, BadOptionsAndABusyPort) {
  const auto& m = serve_model();
  auto r = run_cli({"serve", "--model", m.model.string(), "--port", "70000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("serve: --port must be in [0, 65535], got 70000"), std::string::npos)
      << r.err;
  r = run_cli({"serve", "--model", m.model.string(), "--queue", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--queue must be >= 0"), std::string::npos) << r.err;
  r = run_cli({"serve", "--model", m.model.string(), "--max-upload-mb", "0"});
  EXPECT_EQ(r.exit_code, 2);
  ServerProcess s;
  // A port another server listens on is an error (not a shared port).
  r = run_cli({"serve", "--model", m.model.string(), "--port", std::to_string(s.port())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("serve: cannot listen on 127.0.0.1:" + std::to_string(s.port())),
            std::string::npos)
      << r.err;
  r = run_cli({"serve", "--model", (m.dir / "missing.tutti").string()});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace tutti::testing
