// `tutti train --checkpoint-every N` killed after an epoch (SIGKILL through the test hook
// TUTTI_TEST_KILL_AFTER_EPOCH, as a crash), then rerun with --resume: the model file holds the
// bytes of weights.pt and meta.json (wall-clock seconds aside) of an uninterrupted run, as one
// process and as two ranks, for ATT (fused engine), FC_T, MMGAT and RNN (torch::optim::Adam).
#include <gtest/gtest.h>

#include "dist/dist_runner.h"
#include "test_util.h"

namespace tt = tutti::testing;
using tt::fixture;
using tt::run_cli;
using tt::TempDir;

namespace {

std::vector<std::string> train_args(const std::string& model, const std::string& out,
                                    const std::string& data = {}) {
  return {"train",        data.empty() ? fixture("train/train_small.npz").string() : data,
          "--model",      model,
          "--seed",       "7",
          "--epochs",     "6",
          "--batch-size", "32",
          "--threads",    "1",
          "-o",           out};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// `tutti launch` of `ranks` ranks in front of args (none for 0: a plain process).
std::vector<std::string> launched(int ranks, const std::vector<std::string>& args) {
  if (ranks == 0) return args;
  return with({"launch", "--nproc-per-node", std::to_string(ranks), "--timeout", "30", "--"}, args);
}

// Trains `model` uninterrupted; then with checkpoints every 2 epochs, killed after epoch 3 (so the
// resumed run redoes epoch 3 from the epoch-2 checkpoint), resumed; compares the two files.
// `streamed`: `--train SHARDS --val VAL` in place of the in-memory dataset; `options`: more
// training flags.
void expect_resume_equals_uninterrupted(const std::string& model, int ranks,
                                        const std::vector<std::string>& streamed = {},
                                        const std::vector<std::string>& options = {}) {
  TempDir dir;
  const auto full = dir / "full.tutti", cut = dir / "cut.tutti";
  auto args = [&](const std::filesystem::path& out) {
    auto a = with(train_args(model, out.string()), options);
    if (streamed.empty()) return a;
    a.erase(a.begin() + 1);  // the positional dataset
    return with(a, streamed);
  };
  const auto r0 = run_cli(launched(ranks, args(full)));
  ASSERT_EQ(r0.exit_code, 0) << r0.err;

  const auto ck = with(args(cut), {"--checkpoint-every", "2"});
  const auto killed = tt::wait_for(
      tt::spawn({{"TUTTI_TEST_KILL_AFTER_EPOCH", "3"}}, launched(ranks, ck), dir / "e"), 60);
  ASSERT_TRUE(killed.in_time);
  ASSERT_NE(killed.exit_code, 0) << "the run was not killed: " << killed.err;
  ASSERT_FALSE(std::filesystem::exists(cut)) << "a killed run left a model file";
  ASSERT_TRUE(std::filesystem::exists(cut.string() + ".ckpt")) << killed.err;

  const auto resumed = run_cli(launched(ranks, with(ck, {"--resume"})));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_FALSE(std::filesystem::exists(cut.string() + ".ckpt")) << "the checkpoint outlived OUT";

  const auto a = tutti::testing::model_file_content(full),
             b = tutti::testing::model_file_content(cut);
  EXPECT_TRUE(a.entries == b.entries) << model << ": weights.pt differs after --resume";
  EXPECT_EQ(a.meta, b.meta) << model;
  EXPECT_EQ(b.meta.at("training").at("history").size(), 6u);
}

}  // namespace

TEST(Resume, OneProcessEndsWithTheUninterruptedModel) {
  for (const char* m : {"att", "fc_t", "mmgat", "rnn"}) {
    SCOPED_TRACE(m);
    expect_resume_equals_uninterrupted(m, 0);
  }
}

TEST(Resume, TwoRanksEndWithTheUninterruptedModel) {
  for (const char* m : {"att", "fc_t", "mmgat"}) {
    SCOPED_TRACE(m);
    expect_resume_equals_uninterrupted(m, 2);
  }
}

// Mixup draws from (seed, epoch, step), so a resumed run mixes as the uninterrupted one; the
// mixed instance counts would change data-parallel dropout keys, so two ranks refuse it.
TEST(Resume, MixupEndsWithTheUninterruptedModel) {
  for (const char* m : {"att", "fc_t"}) {
    SCOPED_TRACE(m);
    expect_resume_equals_uninterrupted(m, 0, {}, {"--mixup", "0.4"});
  }
  TempDir dir;
  const auto r =
      run_cli(launched(2, with(train_args("att", (dir / "m.tutti").string()), {"--mixup", "0.4"})));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--mixup 0.4: not supported with data-parallel training"), std::string::npos)
      << r.err;
}

// The weight average (--ema) is in the checkpoint: a resumed run validates and writes the average
// an uninterrupted one does, as one process and as two ranks (each rank averages the same
// all-reduced weights).
TEST(Resume, WeightAverageEndsWithTheUninterruptedModel) {
  for (const char* m : {"att", "fc_t"}) {
    SCOPED_TRACE(m);
    expect_resume_equals_uninterrupted(m, 0, {}, {"--ema", "0.9"});
  }
  expect_resume_equals_uninterrupted("att", 2, {}, {"--ema", "0.9"});
}

// Streamed from one shard (data/shards.h), as one process and as two ranks: the batch order's
// engine and the epoch's shard order resume as in memory.
TEST(Resume, StreamedShardsEndWithTheUninterruptedModel) {
  const std::vector<std::string> streamed = {"--train", fixture("train/train_small.npz").string(),
                                             "--val", fixture("train/test_small.npz").string()};
  for (const int ranks : {0, 2}) {
    SCOPED_TRACE(ranks);
    expect_resume_equals_uninterrupted("att", ranks, streamed);
  }
}

// A checkpoint only continues the run that wrote it.
TEST(Resume, OtherOptionsDataOrWorldSizeAreRefused) {
  TempDir dir;
  const auto out = dir / "m.tutti";
  const auto ck = with(train_args("att", out.string()), {"--checkpoint-every", "2"});
  const auto killed =
      tt::wait_for(tt::spawn({{"TUTTI_TEST_KILL_AFTER_EPOCH", "3"}}, ck, dir / "e"), 60);
  ASSERT_TRUE(std::filesystem::exists(out.string() + ".ckpt")) << killed.err;
  const std::string ckpt = out.string() + ".ckpt";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {with(ck, {"--resume", "--lr", "0.01"}),
       "train: --resume: " + ckpt +
           " was written with other training options (learning_rate 0.0005 there, 0.01 here)"},
      {with(train_args("att", out.string(), fixture("train/train_fixed.npz").string()),
            {"--resume"}),
       "train: --resume: " + ckpt + " was written for other data"},
      {launched(2, with(ck, {"--resume"})),
       "train: --resume: " + ckpt + " was written by a run of 1 rank(s); this run has 2"},
  };
  for (const auto& [args, expect] : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  // Refused runs leave the checkpoint for the right rerun.
  const auto ok = run_cli(with(ck, {"--resume"}));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(Resume, WithoutACheckpointOrForAForestIsAnError) {
  TempDir dir;
  const auto out = dir / "m.tutti";
  auto r = run_cli(with(train_args("att", out.string()), {"--resume"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("train: --resume: no checkpoint " + out.string() + ".ckpt"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(tutti::testing::count_lines(r.err), 1) << r.err;
  r = run_cli(with(train_args("rf", out.string()), {"--checkpoint-every", "1"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("train: rf: --checkpoint-every and --resume apply to the neural models"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}
