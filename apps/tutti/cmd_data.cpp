// `tutti data ...`: convert released datasets to bag .npz files, inspect, split, verify,
// concatenate, merge and filter.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/core/progress.h"
#include "tutti/data/audioset.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/concat.h"
#include "tutti/data/filter.h"
#include "tutti/data/merge.h"
#include "tutti/data/openmic.h"
#include "tutti/data/shards.h"
#include "tutti/data/split.h"
#include "tutti/data/summary.h"

namespace fs = std::filesystem;

namespace tutti::cli {
namespace {

// A count on the command line: a whole number >= min (CLI11's NonNegativeNumber would print its
// range up to DBL_MAX). Text that is not a number is left to CLI11's conversion error.
CLI::Validator at_least(long long min) {
  return CLI::Validator(
      [min](std::string& s) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || v >= min) return {};
        return fmt::format("must be at least {}, got {}", min, s);
      },
      fmt::format(">= {}", min));
}

void setup_info(CLI::App& data) {
  struct Opts {
    std::string file;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand("info", "Summarize a bag dataset (.npz)");
  cmd->add_option("FILE", o->file, "Bag dataset .npz")->required();
  cmd->add_flag("--json", o->json, "Print one JSON object instead of a table");
  cmd->callback([o] {
    const auto ds = data::load_bags(o->file);
    const auto s = data::summarize(ds);
    if (o->json) {
      auto j = s.to_json();
      j["file"] = o->file;
      std::fputs((j.dump(2) + "\n").c_str(), stdout);
    } else {
      std::fputs(fmt::format("file           {}\n{}", o->file, s.to_text()).c_str(), stdout);
    }
  });
}

void setup_split(CLI::App& data) {
  struct Opts {
    std::string file, train_out, test_out;
    double test_fraction = 0.2;
    std::uint64_t seed = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand(
      "split", "Stratified, seeded train/test split (iterative stratification; docs/data.md)");
  cmd->add_option("FILE", o->file, "Bag dataset .npz")->required();
  cmd->add_option("--test-fraction", o->test_fraction, "Fraction of clips in the test part")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--train-out", o->train_out, "Output for the train part (default FILE-train.npz)");
  cmd->add_option("--test-out", o->test_out, "Output for the test part (default FILE-test.npz)");
  cmd->callback([o] {
    const fs::path in(o->file);
    const auto stem = (in.parent_path() / in.stem()).string();
    const fs::path train_out = o->train_out.empty() ? stem + "-train.npz" : o->train_out;
    const fs::path test_out = o->test_out.empty() ? stem + "-test.npz" : o->test_out;
    check<UsageError>(fs::weakly_canonical(train_out) != fs::weakly_canonical(test_out),
                      "data split: --train-out and --test-out are the same file");
    check_outputs_differ("data split", {{"FILE", o->file}},
                         {{"--train-out", train_out.string()}, {"--test-out", test_out.string()}});
    const auto ds = data::load_bags(in);
    const auto idx = data::stratified_split(ds, o->test_fraction, o->seed);
    data::save_bags(train_out, ds.subset(idx.train));
    data::save_bags(test_out, ds.subset(idx.test));
    std::fprintf(stderr, "split %s: %zu train -> %s, %zu test -> %s\n", o->file.c_str(),
                 idx.train.size(), train_out.c_str(), idx.test.size(), test_out.c_str());
  });
}

void setup_convert(CLI::App& data) {
  struct Opts {
    std::string format, input, output, split = "train", taxonomy = "openmic20", metadata;
    bool all_clips = false;
    int threads = 1;
    std::int64_t max_instances = data::kAudioSetMaxInstances;
    std::vector<std::string> select;
  };
  static_assert(data::kAudioSetMaxInstances == data::kOpenmicMaxInstances,
                "one --max-instances default serves both formats");
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand("convert", "Convert a released dataset to a bag dataset .npz");
  cmd->add_option("FORMAT", o->format,
                  "openmic (release folder with openmic-2018.npz), openmic-json (per-clip "
                  "vggish/*.json + aggregated labels), audioset (folder of .tfrecord shards)")
      ->required()
      ->check(CLI::IsMember({"openmic", "openmic-json", "audioset"}));
  cmd->add_option("PATH", o->input, "Release folder, shard folder or shard file")->required();
  cmd->add_option("-o,--output", o->output, "Output .npz")->required();
  cmd->add_option("--split", o->split, "openmic: which split01 partition (train, test, all)")
      ->check(CLI::IsMember({"train", "test", "all"}))
      ->capture_default_str();
  cmd->add_option("--taxonomy", o->taxonomy, "audioset: openmic20 (20 instruments) or audioset")
      ->check(CLI::IsMember({"openmic20", "audioset"}))
      ->capture_default_str();
  cmd->add_flag("--all-clips", o->all_clips,
                "audioset: keep clips without a Music/Singing label too");
  cmd->add_option("--select", o->select,
                  "audioset: keep only clips with one of these AudioSet classes (names, with "
                  "descendants), e.g. --select 'White noise' 'Pink noise' Static");
  cmd->add_option("--metadata", o->metadata,
                  "audioset: folder with class_labels_indices.csv and ontology.json "
                  "(default: the shard folder or its parent)");
  cmd->add_option("--threads", o->threads, "Worker threads")->capture_default_str();
  cmd->add_option("--max-instances", o->max_instances,
                  "audioset, openmic-json: frames kept per clip; a longer clip keeps its first N "
                  "and is named in a warning (0 = every frame, padding all clips to the longest)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->callback([o] {
    std::vector<NamedPath> in = {{"PATH", o->input}, {"--metadata", o->metadata}};
    if (o->format == "openmic")  // the release's own npz inside the folder
      in.push_back({"PATH", (fs::path(o->input) / "openmic-2018.npz").string()});
    check_outputs_differ("data convert", in, {{"-o", o->output}});
    data::BagDataset ds;
    data::ClipCuts cuts;
    if (o->format == "audioset") {
      data::AudioSetOptions opt;
      opt.taxonomy = o->taxonomy;
      opt.music_only = !o->all_clips;
      opt.select_labels = o->select;
      opt.threads = o->threads;
      opt.max_instances = o->max_instances;
      opt.validate();
      const auto shards = data::audioset_shards(o->input);
      core::Progress bar("convert", static_cast<std::int64_t>(shards.size()));
      ds = data::read_audioset(o->input, o->metadata, opt, &bar, &cuts);
    } else if (o->format == "openmic") {
      ds = data::read_openmic_release(o->input, o->split);
    } else {
      ds = data::read_openmic_clips(o->input, o->max_instances, &cuts);
    }
    for (const auto& w : cuts.warnings(o->max_instances))
      std::fprintf(stderr, "tutti: warning: %s\n", w.c_str());
    check(ds.size() > 0, "{}: no clips selected, nothing written", o->input);
    data::save_bags(o->output, ds);
    std::fprintf(stderr, "%s: %lld clips, %lld classes -> %s\n", o->input.c_str(),
                 static_cast<long long>(ds.size()), static_cast<long long>(ds.num_classes()),
                 o->output.c_str());
  });
}

void setup_concat(CLI::App& data) {
  struct Opts {
    std::string a, b, output;
    int per_clip = -1;
    data::ConcatOptions opt;
    bool any = false, same_label_only = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand(
      "concat",
      "Longer clips: append to each clip of A random clips of B sharing a label; or merge the "
      "shards of a manifest.json (no B) into one dataset");
  cmd->add_option("A", o->a,
                  "Bag dataset whose clips are extended (.npz), or a shard manifest (.json)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("B", o->b, "Bag dataset the appended clips come from (may be A)")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "Output .npz")->required();
  // -1 = not given (then --min/--max); a given value must be a real count.
  auto* per = cmd->add_option("--per-clip", o->per_clip, "Clips of B appended to each clip of A")
                  ->check(at_least(1));
  cmd->add_option("--min", o->opt.min_per_clip, "At least this many clips of B per clip")
      ->excludes(per)
      ->capture_default_str();
  cmd->add_option("--max", o->opt.max_per_clip, "At most this many (uniform in [min, max])")
      ->excludes(per)
      ->capture_default_str();
  auto* any = cmd->add_flag("--any", o->any, "Draw from all clips of B, not only same-label ones");
  cmd->add_flag("--same-label-only", o->same_label_only,
                "Only clips of B sharing a known positive label (the default)")
      ->excludes(any);
  cmd->add_option("--seed", o->opt.seed, "Random seed")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the counts as one JSON object");
  cmd->callback([o] {
    check_outputs_differ("data concat", {{"A", o->a}, {"B", o->b}}, {{"-o", o->output}});
    if (o->b.empty()) {  // the shards of a manifest, one after the other
      check<UsageError>(fs::path(o->a).extension() == ".json",
                        "data concat: {}: give B, or a shard manifest (.json) as A to merge its "
                        "shards",
                        o->a);
      const auto merged = data::merge_shards(o->a);
      check(merged.size() > 0, "data concat: {} lists no clip, nothing written", o->a);
      data::save_bags(o->output, merged);
      std::fprintf(stderr, "concat %s: %lld clips (K = %lld) -> %s\n", o->a.c_str(),
                   static_cast<long long>(merged.size()),
                   static_cast<long long>(merged.max_instances), o->output.c_str());
      return;
    }
    if (o->per_clip >= 0) o->opt.min_per_clip = o->opt.max_per_clip = o->per_clip;
    o->opt.same_label_only = !o->any;
    o->opt.validate();
    const auto a = data::load_bags(o->a);
    const auto b = fs::equivalent(o->a, o->b) ? a : data::load_bags(o->b);
    data::ConcatStats st;
    const auto out = data::concat_bags(a, b, o->opt, o->a, o->b, &st);
    check(out.size() > 0, "data concat: {} has no clips, nothing written", o->a);
    data::save_bags(o->output, out);
    if (o->json) {
      auto j = st.to_json();
      j["a"] = o->a;
      j["b"] = o->b;
      j["output"] = o->output;
      j["options"] = o->opt.to_json();
      std::fputs((j.dump(2) + "\n").c_str(), stdout);
    }
    std::fprintf(stderr,
                 "concat %s + %s: %lld clips, %lld clips of B appended, K = %lld; %lld clips got "
                 "fewer than drawn (%lld nothing) -> %s\n",
                 o->a.c_str(), o->b.c_str(), static_cast<long long>(st.clips),
                 static_cast<long long>(st.appended), static_cast<long long>(st.max_instances),
                 static_cast<long long>(st.short_of_candidates),
                 static_cast<long long>(st.without_candidates), o->output.c_str());
  });
}

std::vector<std::string> split_names(const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const auto& g : given) {
    std::size_t start = 0;
    while (start <= g.size()) {
      const auto comma = std::min(g.find(',', start), g.size());
      if (comma > start) out.push_back(g.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

void setup_merge(CLI::App& data) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string output;
    bool prefix_keys = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand(
      "merge", "Bag datasets one after the other in one dataset (same classes, D and embedder)");
  cmd->add_option("FILES", o->inputs, "Bag datasets (.npz), in this order")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "Output .npz")->required();
  cmd->add_flag("--prefix-keys", o->prefix_keys,
                "Put each file's name without .npz and a '/' in front of its clip keys (two "
                "`tutti synth` folders both have synth_000000.wav)");
  cmd->callback([o] {
    std::vector<NamedPath> in;
    for (const auto& f : o->inputs) in.push_back({"FILES", f});
    check_outputs_differ("data merge", in, {{"-o", o->output}});
    std::vector<data::BagDataset> parts;
    std::map<std::string, std::string> owner;  // clip key -> the file it came from
    for (const auto& f : o->inputs) {
      parts.push_back(data::load_bags(f));
      for (auto& key : parts.back().keys) {
        if (o->prefix_keys) key = fs::path(f).stem().string() + "/" + key;
        const auto [at, fresh] = owner.emplace(key, f);
        check<UsageError>(fresh,
                          "data merge: {}: clip key '{}' is also in {} (--prefix-keys makes "
                          "keys unique per file)",
                          f, key, at->second);
      }
    }
    const auto merged = data::merge_datasets(std::move(parts), o->inputs);
    check(merged.size() > 0, "data merge: the inputs hold no clip, nothing written");
    data::save_bags(o->output, merged);
    std::fprintf(stderr, "merge: %zu files, %lld clips (K = %lld) -> %s\n", o->inputs.size(),
                 static_cast<long long>(merged.size()),
                 static_cast<long long>(merged.max_instances), o->output.c_str());
  });
}

void setup_filter(CLI::App& data) {
  struct Opts {
    std::string input, output;
    data::FilterOptions opt;
    std::vector<std::string> classes, with_any, without_any;
    std::string without_clips_of;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand(
      "filter", "Keep clips by instance count or labels, and chosen classes (e.g. K = 10 for FC)");
  cmd->add_option("FILE", o->input, "Bag dataset .npz")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "Output .npz")->required();
  // The library's -1 means "no condition"; on the command line a count is never negative (an
  // ignored --instances -1 would keep every clip).
  auto* exact = cmd->add_option("--instances", o->opt.instances,
                                "Keep clips with exactly this many instances")
                    ->check(at_least(0));
  cmd->add_option("--min-instances", o->opt.min_instances, "Keep clips with at least this many")
      ->excludes(exact)
      ->check(at_least(0));
  cmd->add_option("--max-instances", o->opt.max_instances, "Keep clips with at most this many")
      ->excludes(exact)
      ->check(at_least(0));
  cmd->add_option("--with-label", o->with_any,
                  "Keep clips with a known positive among these classes (comma-separated)");
  cmd->add_option("--without-label", o->without_any,
                  "Drop clips with a known positive among these classes (comma-separated)");
  cmd->add_option("--classes", o->classes,
                  "Keep only these class columns, in this order (comma-separated)");
  cmd->add_flag("--trim-k", o->opt.trim_k, "Cut K (padding) to the longest kept clip");
  cmd->add_option("--without-clips-of", o->without_clips_of,
                  "Drop the clips whose keys are in this bag dataset (e.g. a test set)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", o->json, "Print the counts as one JSON object");
  cmd->callback([o] {
    check_outputs_differ("data filter", {{"FILE", o->input}}, {{"-o", o->output}});
    if (!o->without_clips_of.empty())
      o->opt.without_keys = data::load_bags(o->without_clips_of).keys;
    o->opt.classes = split_names(o->classes);
    o->opt.with_any = split_names(o->with_any);
    o->opt.without_any = split_names(o->without_any);
    o->opt.validate();
    const auto ds = data::load_bags(o->input);
    const auto r = data::filter_bags(ds, o->opt, o->input);
    check(r.kept > 0, "data filter: {}: no clip passes the filter ({} dropped), nothing written",
          o->input, r.dropped);
    data::save_bags(o->output, r.data);
    if (o->json) {
      auto j = r.to_json();
      j["input"] = o->input;
      j["output"] = o->output;
      j["options"] = o->opt.to_json();
      std::fputs((j.dump(2) + "\n").c_str(), stdout);
    }
    std::string why;
    for (const auto& [reason, n] : r.dropped_by)
      why += fmt::format("{}{} {}", why.empty() ? " (" : ", ", n, reason);
    if (!why.empty()) why += ")";
    std::fprintf(stderr, "filter %s: kept %lld of %lld clips, dropped %lld%s, K = %lld -> %s\n",
                 o->input.c_str(), static_cast<long long>(r.kept),
                 static_cast<long long>(ds.size()), static_cast<long long>(r.dropped), why.c_str(),
                 static_cast<long long>(r.data.max_instances), o->output.c_str());
  });
}

// Where the official OpenMIC md5 lists are: --checksums, the release folder, or
// $TUTTI_SHARED_DATA/openmic.
fs::path find_checksum_list(const std::string& given, const fs::path& root,
                            const std::string& name) {
  if (!given.empty()) return fs::path(given) / name;
  std::vector<fs::path> places = {root / name};
  if (const char* env = std::getenv("TUTTI_SHARED_DATA"); env && *env)
    places.push_back(fs::path(env) / "openmic" / name);
  for (const auto& p : places)
    if (fs::exists(p)) return p;
  fail<UsageError>("data verify: {} not found in {} (give the folder with --checksums)", name,
                   root.string());
}

void setup_verify(CLI::App& data) {
  struct Opts {
    std::string root, checksums;
    bool audio = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand(
      "verify", "Check an OpenMIC-2018 release folder against the official md5 lists");
  cmd->add_option("ROOT", o->root, "Release folder (vggish/, audio/)")->required();
  cmd->add_option("--checksums", o->checksums,
                  "Folder with openmic-2018-vggish.csv and openmic-2018-audio.csv");
  cmd->add_flag("--audio", o->audio, "Also verify the audio files");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] {
    const fs::path root(o->root);
    check<UsageError>(fs::is_directory(root), "data verify: {}: not a folder", o->root);
    std::vector<std::pair<std::string, data::OpenmicFiles>> kinds = {
        {"openmic-2018-vggish.csv", data::OpenmicFiles::kVggish}};
    if (o->audio) kinds.push_back({"openmic-2018-audio.csv", data::OpenmicFiles::kAudio});
    bool ok = true;
    core::Json out = core::Json::object();
    for (const auto& [name, kind] : kinds) {
      const auto list = find_checksum_list(o->checksums, root, name);
      const auto r = data::verify_openmic_release(root, list, kind);
      ok = ok && r.ok();
      core::Json mism = core::Json::array();
      for (const auto& m : r.mismatched)
        mism.push_back({{"key", m.key}, {"path", m.path.string()}, {"expected", m.expected_md5},
                        {"actual", m.actual_md5}});
      out[name] = {{"listed", r.listed},   {"checked", r.checked},
                   {"missing", r.missing}, {"mismatched", mism},
                   {"unlisted", r.unlisted.size()}, {"ok", r.ok()}};
      if (!o->json) {
        std::printf("%s: %lld listed, %lld checked, %zu missing, %zu mismatched, %zu unlisted\n",
                    name.c_str(), static_cast<long long>(r.listed),
                    static_cast<long long>(r.checked), r.missing.size(), r.mismatched.size(),
                    r.unlisted.size());
        for (const auto& m : r.mismatched)
          std::printf("  MISMATCH %s: %s (expected %s)\n", m.path.c_str(), m.actual_md5.c_str(),
                      m.expected_md5.c_str());
        for (std::size_t i = 0; i < r.missing.size() && i < 10; ++i)
          std::printf("  missing %s\n", r.missing[i].c_str());
        if (r.missing.size() > 10) std::printf("  ... and %zu more missing\n", r.missing.size() - 10);
      }
    }
    if (o->json) std::fputs((out.dump(2) + "\n").c_str(), stdout);
    check(ok, "{}: verification failed (missing or mismatched files)", o->root);
  });
}

void setup(CLI::App& root) {
  auto* data = root.add_subcommand(
      "data", "Convert, inspect, split, verify, concatenate, merge and filter datasets");
  data->require_subcommand(1);
  setup_convert(*data);
  setup_info(*data);
  setup_split(*data);
  setup_verify(*data);
  setup_concat(*data);
  setup_merge(*data);
  setup_filter(*data);
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("data", 10, tutti::cli::setup);
