// `tutti serve`: the tagger and the predictor behind HTTP, with a web page (docs/serve.md).
//
//   tutti::serve::ServeOptions opt;
//   opt.model = "att.tutti";
//   opt.port = 0;                                  // any free port
//   tutti::serve::Server server(opt);              // loads the model, binds the socket
//   std::thread t([&] { server.run(); });          // serves until shutdown()
//   use(server.port());
//   server.shutdown();                             // finishes requests in flight, refuses new
//   t.join();
//
// Routes: POST /v1/tag, POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics,
// /openapi.json, and the page at / (its files are compiled into the program).
// Every error is a JSON object {"error": "<message>", "status": <code>}.
//
// What protects the service (all in ServeOptions):
// - uploads above max_upload_bytes are refused with 413 as soon as the Content-Length header
//   says so (nothing of the body is read) or, without one, as soon as the count passes it;
// - at most `workers` requests compute at once and at most `queue` more wait (uploading or
//   waiting for a worker); one more is refused at once with 503 and Retry-After;
// - each request has time_limit_s from its headers to its answer: a slow upload gets 408, a wait
//   for a worker that would pass it 503, tagging that passes it 504;
// - uploads go to a private temporary folder (mode 0700) under the server's control, named by a
//   counter: no path is ever taken from a request, and the file is removed after the answer.
// A refusal sent before the request's body was read closes the connection (the body is never
// read).
//
// Torch-free header (the model sits behind infer::Tagger's pimpl).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace tutti::serve {

struct ServeOptions {
  std::filesystem::path model;   // .tutti model file (required)
  std::filesystem::path vggish;  // VGGish weights, for models trained on vggish features
  std::string host = "127.0.0.1";
  int port = 8080;       // 0 = a free port chosen by the system (Server::port())
  int workers = 0;       // requests computed at once; 0 = the number of cores
  int queue = 16;        // requests admitted beyond the workers (uploading or waiting)
  int connections = 32;  // connection threads (each holds one open connection: keep-alive, slow)
  std::uint64_t max_upload_bytes = 200ull << 20;
  double time_limit_s = 60;    // per request, from its headers to its answer
  double read_timeout_s = 10;  // a client that sends nothing for this long is disconnected
  int retry_after_s = 1;       // Retry-After of a 503
  // UsageError naming the option: empty model, port outside [0, 65535], workers < 0, queue < 0,
  // connections < 1, max_upload_bytes 0, non-positive time limit or read timeout.
  void validate() const;
};

class Server {
 public:
  // Validates the options, loads the model (errors as infer::Tagger) and binds host:port
  // (tutti::Error "serve: cannot listen on <host>:<port>"). Does not serve yet.
  explicit Server(const ServeOptions& options);
  ~Server();  // removes the temporary folder
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;  // the bound port
  const ServeOptions& options() const;

  // Serves on the calling thread until shutdown(); returns once every accepted connection has
  // been answered and closed.
  void run();
  // Thread-safe, callable from a signal-waiting thread: stops accepting connections, lets the
  // requests in flight finish (/readyz answers 503 meanwhile), then run() returns.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tutti::serve
