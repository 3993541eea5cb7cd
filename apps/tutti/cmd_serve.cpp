// `tutti serve --model M.tutti`: the tagger behind HTTP with a web page (docs/serve.md). SIGTERM or
// Ctrl-C: the requests in flight finish, new ones are refused, then exit 0.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/serve/server.h"

namespace tutti::cli {
namespace {

void setup_serve(CLI::App& root) {
  struct Opts {
    serve::ServeOptions serve;
    std::string model, vggish;
    double max_upload_mb = 200;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "serve", "Serve tagging over HTTP: JSON API, metrics, and a web page at /");
  cmd->add_option("--model,-m", o->model, "Model file (.tutti)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--vggish", o->vggish, "VGGish weights (.tutti-embedder)");
  cmd->add_option("--host", o->serve.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->serve.port, "Port (0 = any free port)")->capture_default_str();
  cmd->add_option("--workers", o->serve.workers, "Requests computed at once (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--queue", o->serve.queue, "Requests admitted beyond the workers; more get 503")
      ->capture_default_str();
  cmd->add_option("--connections", o->serve.connections,
                  "Connection threads (open connections served at once)")
      ->capture_default_str();
  cmd->add_option("--max-upload-mb", o->max_upload_mb, "Largest upload in MiB (413 above)")
      ->capture_default_str();
  cmd->add_option("--time-limit", o->serve.time_limit_s, "Seconds per request")
      ->capture_default_str();
  cmd->add_option("--read-timeout", o->serve.read_timeout_s,
                  "Seconds a client may stay silent mid-request")
      ->capture_default_str();
  cmd->callback([o] {
    serve::ServeOptions opt = o->serve;
    opt.model = o->model;
    opt.vggish = o->vggish;
    check<UsageError>(o->max_upload_mb > 0 && o->max_upload_mb < 1e9,
                      "serve: --max-upload-mb must be > 0, got {}", o->max_upload_mb);
    opt.max_upload_bytes = static_cast<std::uint64_t>(o->max_upload_mb * 1024 * 1024);
    // The signals are taken by one thread (sigwait) instead of the cleanup handler main installs:
    // blocked here, before any server thread exists, they stay blocked in every thread.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    serve::Server server(opt);
    std::fprintf(stderr, "tutti serve: listening on http://%s:%d (model %s, %d workers)\n",
                 opt.host.c_str(), server.port(), opt.model.filename().c_str(),
                 server.options().workers);
    std::fflush(stderr);
    std::atomic<bool> stopping{false};
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      if (stopping) return;  // run() ended on its own and woke this thread
      stopping = true;
      std::fprintf(stderr, "tutti serve: %s: finishing the requests in flight\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      server.shutdown();
    });
    server.run();
    if (!stopping.exchange(true)) pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    std::fprintf(stderr, "tutti serve: stopped\n");
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("serve", 44, tutti::cli::setup_serve);
