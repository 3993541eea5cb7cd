// `tutti data ...`: convert released datasets to bag .npz files, inspect, split, verify.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/split.h"
#include "tutti/data/summary.h"

namespace fs = std::filesystem;

namespace tutti::cli {
namespace {

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
    const auto ds = data::load_bags(in);
    const auto idx = data::stratified_split(ds, o->test_fraction, o->seed);
    data::save_bags(train_out, ds.subset(idx.train));
    data::save_bags(test_out, ds.subset(idx.test));
    std::fprintf(stderr, "split %s: %zu train -> %s, %zu test -> %s\n", o->file.c_str(),
                 idx.train.size(), train_out.c_str(), idx.test.size(), test_out.c_str());
  });
}

void setup(CLI::App& root) {
  auto* data = root.add_subcommand("data", "Convert, inspect, split and verify datasets");
  data->require_subcommand(1);
  setup_info(*data);
  setup_split(*data);
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("data", 10, tutti::cli::setup);
