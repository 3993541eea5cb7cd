// `tutti tag` and `tutti embed` over batches: --files-from, --failures, the output formats with
// --out-dir and --resume, --start/--duration windows, short files padded, sample rates and channel
// counts, bounded memory on a long file, and one test per kind of bad input.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "serve/serve_test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

std::vector<std::string> split_tabs(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string f; std::getline(ss, f, '\t');) out.push_back(f);
  return out;
}

// Every file under dir (recursively), relative, sorted: to see that nothing else was left behind.
std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

// A folder of inputs: a/one.wav (5 s), a/sub/two.wav (3.5 s), a/short.wav (0.5 s).
struct Inputs {
  TempDir dir;
  fs::path a, one, two, shorty;
  Inputs() {
    a = dir / "a";
    one = a / "one.wav";
    two = a / "sub" / "two.wav";
    shorty = a / "short.wav";
    write_test_wav(one, 5.0, 1);
    write_test_wav(two, 3.5, 2);
    write_test_wav(shorty, 0.5, 3);
  }
  std::string model() const { return serve_model().model.string(); }
};

TEST(CliBulk, FilesFromListAndStdinMissingFilesAreFailuresNotErrors) {
  Inputs in;
  const auto list = in.dir / "list.txt";
  const auto missing = in.dir / "gone.wav";
  std::ofstream(list) << "# inputs\n" << in.one.string() << "\r\n\n" << missing.string() << "\n";
  const auto failures = in.dir / "failed.txt";
  auto r = run_cli({"tag", "--model", in.model(), "--files-from", list.string(), in.two.string(),
                    "--format", "jsonl", "--failures", failures.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto out = lines_of(r.out);
  ASSERT_EQ(out.size(), 2u) << r.out;  // the two that exist, in input order (arguments first)
  EXPECT_EQ(core::Json::parse(out[0])["file"], in.two.string());
  EXPECT_EQ(core::Json::parse(out[1])["file"], in.one.string());
  EXPECT_NE(r.err.find("tutti: failed: " + missing.string() + ": no such file (line 4 of " +
                       list.string() + ")"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("tag: 1 of 3 inputs failed"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(failures), missing.string() + "\n");

  // '-' reads the list from stdin; a clean run rewrites the failures list empty.
  std::ofstream(list) << in.one.string() << "\n";
  r = run_cli({"embed", "--files-from", "-", "-o", (in.dir / "e.npz").string(), "--failures",
               failures.string()},
              list);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(data::load_bags(in.dir / "e.npz").keys, std::vector<std::string>{in.one.string()});
  EXPECT_EQ(slurp(failures), "");

  // Nothing to read at all is a usage error.
  r = run_cli({"tag", "--model", in.model()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tag: no inputs"), std::string::npos) << r.err;
}

TEST(CliBulk, FormatsAgreeAndAliasesKeepWorking) {
  Inputs in;
  const std::string m = in.model(), a = in.a.string();
  const auto jsonl = run_cli({"tag", "--model", m, a, "--format", "jsonl"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  const auto objs = lines_of(jsonl.out);
  ASSERT_EQ(objs.size(), 3u);
  // Folder order: one.wav, short.wav, sub/two.wav; keys relative to the folder.
  const auto one = core::Json::parse(objs[0]), shorty = core::Json::parse(objs[1]);
  EXPECT_EQ(one["file"], "one.wav");
  EXPECT_EQ(shorty["file"], "short.wav");
  EXPECT_EQ(core::Json::parse(objs[2])["file"], "sub/two.wav");
  EXPECT_EQ(one["n_instances"], 5);
  for (const char* k : {"instruments", "timeline", "segments"}) EXPECT_TRUE(one.contains(k)) << k;
  EXPECT_TRUE(one["instruments"]["piano"].contains("threshold"));
  EXPECT_FALSE(one.contains("padded"));
  // The short file is padded to one example, and says so.
  EXPECT_EQ(shorty["padded"], true);
  EXPECT_EQ(shorty["n_instances"], 1);
  EXPECT_NE(shorty["note"].get<std::string>().find("padded with silence"), std::string::npos);

  // --json and --csv are --format json and --format csv.
  EXPECT_EQ(run_cli({"tag", "--model", m, a, "--json"}).out,
            run_cli({"tag", "--model", m, a, "--format", "json"}).out);
  const auto csv = run_cli({"tag", "--model", m, a, "--csv"});
  EXPECT_EQ(csv.out, run_cli({"tag", "--model", m, a, "--format", "csv"}).out);
  EXPECT_EQ(lines_of(csv.out).front(), "file,instrument,probability,threshold,present,segments");
  const auto tsv = run_cli({"tag", "--model", m, a, "--format", "tsv"});
  EXPECT_EQ(lines_of(tsv.out).size(), lines_of(csv.out).size());
  EXPECT_EQ(run_cli({"tag", "--model", m, a, "--json", "--format", "csv"}).exit_code, 2);
  const auto bad = run_cli({"tag", "--model", m, a, "--format", "xml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown format 'xml' (known: table, json, jsonl"), std::string::npos);

  // Events: DCASE columns, one row per segment of the JSON lines.
  const auto ev = run_cli({"tag", "--model", m, a, "--format", "events"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const auto rows = lines_of(ev.out);
  EXPECT_EQ(rows.front(), "filename\tonset\toffset\tevent_label");
  std::size_t n_segments = 0;
  for (const auto& o : objs) n_segments += core::Json::parse(o)["segments"].size();
  EXPECT_EQ(rows.size(), n_segments + 1);
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(split_tabs(rows[i]).size(), 4u);

  // sed-scores needs a file per input.
  const auto nodir = run_cli({"tag", "--model", m, a, "--format", "sed-scores"});
  EXPECT_EQ(nodir.exit_code, 2);
  EXPECT_NE(nodir.err.find("add --out-dir"), std::string::npos) << nodir.err;
  const auto dir = in.dir / "scores";
  const auto sc =
      run_cli({"tag", "--model", m, a, "--format", "sed-scores", "--out-dir", dir.string()});
  ASSERT_EQ(sc.exit_code, 0) << sc.err;
  EXPECT_EQ(tree(dir), (std::vector<std::string>{"one.tsv", "short.tsv", "sub/two.tsv"}));
  // one row per instance: onset, offset, the instance probability of each class (as in JSON).
  const auto table = lines_of(slurp(dir / "one.tsv"));
  ASSERT_EQ(table.size(), 6u);
  const auto header = split_tabs(table[0]);
  ASSERT_EQ(header.size(), 4u);
  EXPECT_EQ(header[0], "onset");
  EXPECT_EQ(header[1], "offset");
  for (std::size_t t = 0; t < 5; ++t) {
    const auto f = split_tabs(table[t + 1]);
    ASSERT_EQ(f.size(), 4u);
    EXPECT_DOUBLE_EQ(std::stod(f[0]), 0.96 * static_cast<double>(t));
    EXPECT_DOUBLE_EQ(std::stod(f[1]), 0.96 * static_cast<double>(t + 1));
    for (std::size_t c = 2; c < 4; ++c)
      EXPECT_FLOAT_EQ(std::stof(f[c]), one["timeline"][t]["prob"][header[c]].get<float>());
  }
}

TEST(CliBulk, ResumeSkipsFilesWhoseOutputExists) {
  Inputs in;
  const auto dir = in.dir / "out";
  const std::vector<std::string> args = {"tag",      "--model", in.model(),  in.a.string(),
                                         "--format", "jsonl",   "--out-dir", dir.string()};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tree(dir), (std::vector<std::string>{"one.jsonl", "short.jsonl", "sub/two.jsonl"}));
  const std::string two = slurp(dir / "sub" / "two.jsonl");
  EXPECT_EQ(core::Json::parse(two)["file"], "sub/two.wav");
  // An interrupted run: one output missing, one kept (marked so that a rewrite would show).
  fs::remove(dir / "sub" / "two.jsonl");
  std::ofstream(dir / "one.jsonl") << "kept\n";
  auto resumed = args;
  resumed.push_back("--resume");
  r = run_cli(resumed);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 inputs skipped: their output exists (--resume)"), std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(dir / "one.jsonl"), "kept\n");
  EXPECT_EQ(slurp(dir / "sub" / "two.jsonl"), two);  // the same bytes as the first run
  // Without --resume everything is written again.
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(slurp(dir / "one.jsonl"), "kept\n");
  // --resume means nothing without per-file outputs; the table has no per-file form.
  EXPECT_EQ(run_cli({"tag", "--model", in.model(), in.a.string(), "--resume"}).exit_code, 2);
  EXPECT_EQ(
      run_cli({"tag", "--model", in.model(), in.a.string(), "--out-dir", dir.string()}).exit_code,
      2);
}

TEST(CliBulk, StartAndDurationWindowTheFileInFileTime) {
  Inputs in;
  const auto full = in.dir / "full.npz", win = in.dir / "win.npz";
  auto r = run_cli({"embed", in.one.string(), "-o", full.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Instances 1 and 2: [0.96, 2.88) s, plus the 15 ms the last 25 ms frame reaches beyond its
  // 10 ms hop (as for a whole file). The window is cut at 16 kHz, sample-exact, so the features
  // are those of the whole file's instances 1 and 2.
  r = run_cli(
      {"embed", in.one.string(), "--start", "0.96", "--duration", "1.935", "-o", win.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto f = data::load_bags(full), w = data::load_bags(win);
  ASSERT_EQ(f.n_instances[0], 5);
  ASSERT_EQ(w.n_instances[0], 2);
  const auto d = static_cast<std::size_t>(f.dim);
  EXPECT_TRUE(std::equal(w.x_u8.begin(), w.x_u8.begin() + 2 * d, f.x_u8.begin() + d));

  r = run_cli({"tag", "--model", in.model(), in.one.string(), "--start", "0.96", "--duration",
               "1.935", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::Json::parse(r.out);
  EXPECT_EQ(j["n_instances"], 2);
  EXPECT_DOUBLE_EQ(j["start_s"].get<double>(), 0.96);
  EXPECT_DOUBLE_EQ(j["timeline"][0]["start_s"].get<double>(), 0.96);
  EXPECT_DOUBLE_EQ(j["timeline"][1]["end_s"].get<double>(), 0.96 * 3);

  // A window after the end, and negative values, are one clear line each.
  r = run_cli({"embed", in.one.string(), "--start", "60", "-o", win.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tutti: error: audio: " + in.one.string() +
                       ": the window starts at 60 s, after the end of the audio (5.000 s)\n");
  r = run_cli({"tag", "--model", in.model(), in.one.string(), "--duration", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("duration -1 s must be a number >= 0"), std::string::npos) << r.err;
}

TEST(CliBulk, ShortFilesArePaddedUnlessNoPad) {
  Inputs in;
  const auto npz = in.dir / "s.npz";
  auto r = run_cli({"embed", in.shorty.string(), "-o", npz.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("0.500 s of audio is shorter than one 0.96 s example: padded with silence"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(data::load_bags(npz).n_instances[0], 1);
  r = run_cli({"embed", in.shorty.string(), "--no-pad", "-o", npz.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(data::load_bags(npz).n_instances[0], 0);
  r = run_cli({"tag", "--model", in.model(), in.shorty.string(), "--no-pad", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::Json::parse(r.out);
  EXPECT_EQ(j["n_instances"], 0);
  EXPECT_FALSE(j.contains("padded"));
}

TEST(CliBulk, SampleRatesFrom8To192KhzAndOneToEightChannels) {
  TempDir dir;
  struct Case {
    int rate_hz, channels;
  };
  for (const Case c : {Case{8000, 1}, Case{192000, 8}, Case{44100, 2}}) {
    const auto wav = dir / fmt::format("s{}_{}.wav", c.rate_hz, c.channels);
    write_sndfile(wav, test_music(4.0, 5, c.rate_hz, c.channels), c.rate_hz, c.channels,
                  SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  }
  const auto npz = dir / "r.npz";
  auto r = run_cli({"embed", dir.path().string(), "-o", npz.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ds = data::load_bags(npz);
  ASSERT_EQ(ds.size(), 3);
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ(ds.n_instances[i], 4) << ds.keys[i];
  r = run_cli(
      {"tag", "--model", serve_model().model.string(), dir.path().string(), "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& l : lines_of(r.out)) EXPECT_EQ(core::Json::parse(l)["n_instances"], 4) << l;
}

// Runs the CLI as a child and returns its peak resident memory (wait4's ru_maxrss, KiB).
long peak_rss_kib(const std::vector<std::string>& args, int& exit_code) {
  std::vector<std::string> argv_s = {TUTTI_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, TUTTI_CLI, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  rusage ru{};
  EXPECT_EQ(::wait4(pid, &status, 0, &ru), pid);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ru.ru_maxrss;
}

TEST(CliBulk, ThirtyMinutesStreamInTheMemoryOfOneMinute) {
  TempDir dir;
  // 16 kHz mono (no resampling: the test measures the streaming, not soxr).
  const auto one = dir / "one.wav", thirty = dir / "thirty.wav";
  write_sndfile(one, test_music(60.0, 7, 16000, 1), 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  write_sndfile(thirty, test_music(1800.0, 7, 16000, 1), 16000, 1,
                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  int rc1 = -1, rc30 = -1;
  const long kib1 = peak_rss_kib({"embed", one.string(), "--max-instances", "0", "--threads", "1",
                                  "-o", (dir / "one.npz").string()},
                                 rc1);
  const long kib30 = peak_rss_kib({"embed", thirty.string(), "--max-instances", "0", "--threads",
                                   "1", "-o", (dir / "thirty.npz").string()},
                                  rc30);
  ASSERT_EQ(rc1, 0);
  ASSERT_EQ(rc30, 0);
  EXPECT_EQ(data::load_bags(dir / "thirty.npz").n_instances[0], 1874);
  // The 30-minute file is 57.6 MB of samples; streamed, it costs what one minute costs, give or
  // take the features kept (1,874 x 128 bytes) and allocator noise.
  EXPECT_LT(kib30, kib1 + 16 * 1024) << "1 min: " << kib1 << " KiB, 30 min: " << kib30 << " KiB";
}

TEST(CliEvalEvents, ScoresDcaseListsAsSedEvalDefinesIt) {
  const auto ref = fixture("events/reference.tsv").string();
  const auto est = fixture("events/estimate.tsv").string();
  auto r = run_cli({"eval-events", ref, est, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::Json::parse(r.out);
  const auto ex = core::Json::parse(slurp(fixture("events/expected.json")));
  for (const char* k : {"f1", "precision", "recall", "error_rate", "substitution_rate",
                        "deletion_rate", "insertion_rate"})
    EXPECT_NEAR(j[k].get<double>(), ex[k].get<double>(), 1e-9) << k;
  EXPECT_NEAR(j["class_wise"]["f1"].get<double>(), ex["class_wise"]["f1"].get<double>(), 1e-9);
  EXPECT_EQ(j["files"], 4);
  r = run_cli({"eval-events", ref, est});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("overall (micro): F1 0.2885"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no ref"), std::string::npos) << r.out;  // voice: never in the reference

  // tag's events scored against themselves: perfect.
  Inputs in;
  r = run_cli({"tag", "--model", in.model(), in.a.string(), "--format", "events"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(in.dir / "ev.tsv") << r.out;
  r = run_cli(
      {"eval-events", (in.dir / "ev.tsv").string(), (in.dir / "ev.tsv").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(core::Json::parse(r.out)["f1"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(core::Json::parse(r.out)["error_rate"].get<double>(), 0.0);

  // Errors: one line each.
  r = run_cli({"eval-events", ref, (in.dir / "none.tsv").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tutti: error: " + (in.dir / "none.tsv").string() + ": no such file\n");
  r = run_cli({"eval-events", ref, est, "--resolution", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  std::ofstream(in.dir / "bad.tsv") << "a.wav\t1\t0.5\tcat\n";
  r = run_cli({"eval-events", ref, (in.dir / "bad.tsv").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tutti: error: " + (in.dir / "bad.tsv").string() +
                       ":1: offset 0.5 s before onset 1 s\n");
}

// ---- bad input: one clear line each, no crash, no partial output, the batch goes on ----------

TEST(CliBulkBadInput, TextNamedWavFailsAndTheBatchGoesOn) {
  Inputs in;
  write_bytes(in.a / "text.wav", "just some text, not audio\n");
  const auto dir = in.dir / "out";
  const auto r = run_cli({"tag", "--model", in.model(), in.a.string(), "--format", "jsonl",
                          "--out-dir", dir.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 3) << r.err;  // the failure, the summary, the error
  EXPECT_NE(r.err.find("tutti: failed: audio: " + (in.a / "text.wav").string() +
                       ": not a recognised audio file"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(tree(dir), (std::vector<std::string>{"one.jsonl", "short.jsonl", "sub/two.jsonl"}));
}

TEST(CliBulkBadInput, ZeroSampleAudioIsAFailure) {
  Inputs in;
  const auto empty = in.dir / "empty.wav";
  write_sndfile(empty, {}, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  auto r = run_cli({"embed", empty.string(), "-o", (in.dir / "e.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tutti: error: audio: " + empty.string() + ": no audio samples\n");
  EXPECT_FALSE(fs::exists(in.dir / "e.npz"));
  r = run_cli({"embed", empty.string(), in.one.string(), "-o", (in.dir / "e.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(data::load_bags(in.dir / "e.npz").size(), 1);
}

TEST(CliBulkBadInput, AbsurdHeaderIsOneLine) {
  Inputs in;
  // A PCM WAV header claiming 65,535 channels and ~4 billion bytes of data, then 64 bytes.
  auto u16 = [](unsigned v) { return std::string{char(v & 255), char(v >> 8 & 255)}; };
  auto u32 = [&](unsigned v) { return u16(v & 0xffff) + u16(v >> 16); };
  const std::string wav = "RIFF" + u32(0xffffffffu) + "WAVEfmt " + u32(16) + u16(1) + u16(65535) +
                          u32(16000) + u32(16000u * 65535u * 2u) + u16(65535u * 2u & 0xffff) +
                          u16(16) + "data" + u32(0xfffffff0u) + std::string(64, '\0');
  const auto bad = in.dir / "absurd.wav";
  write_bytes(bad, wav);
  const auto r =
      run_cli({"tag", "--model", in.model(), bad.string(), in.one.string(), "--format", "jsonl"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.out), 1);  // one.wav still tagged
  EXPECT_NE(r.err.find("tutti: failed: audio: " + bad.string() + ": "), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 2) << r.err;
}

TEST(CliBulkBadInput, FolderWithoutAudioIsOneLine) {
  TempDir dir;
  fs::create_directories(dir / "docs");
  std::ofstream(dir / "docs" / "readme.txt") << "no audio here\n";
  const auto r = run_cli({"embed", (dir / "docs").string(), "-o", (dir / "x.npz").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find((dir / "docs").string() + ": folder holds no audio file"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.npz"));
}

TEST(CliBulkBadInput, ListOfOnlyMissingFilesIsOneLine) {
  TempDir dir;
  const auto list = dir / "list.txt";
  std::ofstream(list) << (dir / "a.wav").string() << "\n" << (dir / "b.wav").string() << "\n";
  const auto r = run_cli({"embed", "--files-from", list.string(), "-o", (dir / "x.npz").string(),
                          "--failures", (dir / "f.txt").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("embed: all 2 files failed; the first: " + (dir / "a.wav").string() +
                       ": no such file (line 1 of"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.npz"));
  EXPECT_EQ(slurp(dir / "f.txt"),
            (dir / "a.wav").string() + "\n" + (dir / "b.wav").string() + "\n");
}

TEST(CliBulkBadInput, UnwritableOutputsAreOneLineAndLeaveNoPartialFile) {
  Inputs in;
  // --out-dir below a regular file: cannot exist, nothing is loaded or run.
  std::ofstream(in.dir / "plain") << "x";
  auto r = run_cli({"tag", "--model", in.model(), in.a.string(), "--format", "jsonl", "--out-dir",
                    (in.dir / "plain" / "out").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--out-dir " + (in.dir / "plain" / "out").string() + ": cannot create"),
            std::string::npos)
      << r.err;
  // One output that cannot be written (its subfolder is a file): that input fails, the others
  // are written, and no temporary file is left behind.
  const auto dir = in.dir / "out";
  fs::create_directories(dir);
  std::ofstream(dir / "sub") << "in the way";
  r = run_cli({"tag", "--model", in.model(), in.a.string(), "--format", "jsonl", "--out-dir",
               dir.string(), "--failures", (in.dir / "f.txt").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tutti: failed: "), std::string::npos) << r.err;
  EXPECT_EQ(tree(dir), (std::vector<std::string>{"one.jsonl", "short.jsonl", "sub"}));
  EXPECT_EQ(slurp(in.dir / "f.txt"), in.two.string() + "\n");
  // embed -o into a missing folder: one line, no file.
  r = run_cli({"embed", in.one.string(), "-o", (in.dir / "nope" / "x.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(in.dir / "nope"));
}

}  // namespace
}  // namespace tutti::testing
