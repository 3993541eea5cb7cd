// Epoch checkpoints (train/checkpoint.h): the state survives a write and read to the bit, and a
// checkpoint of another tutti version, other options, other data or another world size, a file
// that is no checkpoint and a missing file are refused with one line naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "test_util.h"
#include "tutti/train/checkpoint.h"

using tutti::testing::TempDir;
using tutti::train::CheckpointIdentity;
using tutti::train::TrainState;

namespace {

CheckpointIdentity identity() {
  CheckpointIdentity id;
  id.options = tutti::train::TrainConfig::for_model("att").to_json();
  id.data = "0123456789abcdef";
  id.world_size = 1;
  return id;
}

TrainState some_state() {
  torch::manual_seed(3);
  TrainState s;
  s.epoch = 4;
  s.since_best = 1;
  s.summary.history = {{1, 0.7, 0.6, 0.5, 1.5},
                       {2, 0.6, std::numeric_limits<double>::quiet_NaN(), 0.55, 1.25}};
  s.summary.best_epoch = 1;
  s.summary.epochs_run = 2;
  s.summary.val_loss = 0.6;
  s.summary.val_map = 0.5;
  s.summary.train_seconds = 2.75;
  s.model = {torch::randn({3, 4}), torch::tensor(std::int64_t{17})};
  s.best = {torch::randn({3, 4}), torch::tensor(std::int64_t{9})};
  s.average = {torch::randn({3, 4}), torch::tensor(std::int64_t{17})};
  s.average_updates = 31;
  std::mt19937_64 rng(5);
  rng.discard(123);
  std::ostringstream os;
  os << rng;
  s.shuffle_rng = os.str();
  s.torch_rng = tutti::train::torch_rng_state();
  s.dropout_counter = 987654321;
  s.has_fused_adam = true;
  s.fused_adam.m = {torch::randn({12}), torch::randn({1})};
  s.fused_adam.v = {torch::rand({12}), torch::rand({1})};
  s.fused_adam.steps = 42;
  return s;
}

std::string load_error(const std::filesystem::path& p, const CheckpointIdentity& id) {
  try {
    tutti::train::load_checkpoint(p, id);
  } catch (const tutti::Error& e) {
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST(Checkpoint, StateRoundTripsBitForBit) {
  TempDir dir;
  const auto path = dir / "m.tutti.ckpt";
  const TrainState s = some_state();
  tutti::train::write_checkpoint(path, identity(), s);
  const TrainState r = tutti::train::load_checkpoint(path, identity());
  EXPECT_EQ(r.epoch, 4);
  EXPECT_EQ(r.since_best, 1);
  EXPECT_EQ(r.shuffle_rng, s.shuffle_rng);
  EXPECT_EQ(r.dropout_counter, 987654321u);
  ASSERT_EQ(r.model.size(), 2u);
  ASSERT_EQ(r.best.size(), 2u);
  ASSERT_EQ(r.average.size(), 2u);
  EXPECT_EQ(r.average_updates, 31);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(torch::equal(r.model[i], s.model[i]));
    EXPECT_TRUE(torch::equal(r.best[i], s.best[i]));
    EXPECT_TRUE(torch::equal(r.average[i], s.average[i]));
    EXPECT_TRUE(torch::equal(r.fused_adam.m[i], s.fused_adam.m[i]));
    EXPECT_TRUE(torch::equal(r.fused_adam.v[i], s.fused_adam.v[i]));
  }
  EXPECT_EQ(r.fused_adam.steps, 42);
  EXPECT_TRUE(torch::equal(r.torch_rng, s.torch_rng));
  ASSERT_EQ(r.summary.history.size(), 2u);
  EXPECT_EQ(r.summary.history[1].epoch, 2);
  EXPECT_EQ(r.summary.history[1].seconds, 1.25);
  EXPECT_TRUE(std::isnan(r.summary.history[1].val_loss));  // JSON could not carry it
  EXPECT_EQ(r.summary.best_epoch, 1);
  EXPECT_EQ(r.summary.val_loss, 0.6);
  EXPECT_EQ(r.summary.train_seconds, 2.75);

  // The restored torch generator draws what the saved one draws.
  tutti::train::set_torch_rng_state(s.torch_rng);
  const auto next = torch::rand({4});
  torch::rand({4});
  tutti::train::set_torch_rng_state(r.torch_rng);
  EXPECT_TRUE(torch::equal(torch::rand({4}), next));
  // And the batch-order engine continues its sequence.
  std::mt19937_64 a(5), b;
  a.discard(123);
  std::istringstream is(r.shuffle_rng);
  is >> b;
  EXPECT_EQ(a(), b());
}

TEST(Checkpoint, TorchAdamArchiveRoundTrips) {
  TempDir dir;
  const auto path = dir / "m.ckpt";
  TrainState s = some_state();
  s.has_fused_adam = false;
  s.adam = {1, 2, 3, 250, 0};
  tutti::train::write_checkpoint(path, identity(), s);
  const auto r = tutti::train::load_checkpoint(path, identity());
  EXPECT_FALSE(r.has_fused_adam);
  EXPECT_EQ(r.adam, s.adam);
}

TEST(Checkpoint, AnotherRunsCheckpointIsRefusedNamingWhatDiffers) {
  TempDir dir;
  const auto path = dir / "m.tutti.ckpt";
  tutti::train::write_checkpoint(path, identity(), some_state());
  const std::string p = path.string();

  auto id = identity();
  id.tutti_version = "0.0.1";
  EXPECT_NE(load_error(path, id).find("train: --resume: " + p + " was written by tutti " +
                                      TUTTI_VERSION + " (this is tutti 0.0.1)"),
            std::string::npos)
      << load_error(path, id);

  id = identity();
  id.options["learning_rate"] = 0.01;
  const auto opt = load_error(path, id);
  EXPECT_NE(opt.find(p + " was written with other training options (learning_rate 0.0005 there, "
                         "0.01 here)"),
            std::string::npos)
      << opt;

  id = identity();
  id.data = "fedcba9876543210";
  EXPECT_NE(load_error(path, id).find(p + " was written for other data (clips digest "
                                          "0123456789abcdef there, fedcba9876543210 here)"),
            std::string::npos);

  id = identity();
  id.world_size = 2;
  EXPECT_NE(load_error(path, id).find(p + " was written by a run of 1 rank(s); this run has 2"),
            std::string::npos);
}

TEST(Checkpoint, MissingOrForeignFilesAreRefused) {
  TempDir dir;
  const auto missing = dir / "none.tutti.ckpt";
  EXPECT_NE(load_error(missing, identity())
                .find("train: --resume: no checkpoint " + missing.string() +
                      ": --resume continues a run started with --checkpoint-every"),
            std::string::npos);
  const auto junk = dir / "junk.ckpt";
  std::ofstream(junk) << "not a zip";
  EXPECT_NE(load_error(junk, identity())
                .find("train: --resume: " + junk.string() + ": not a tutti checkpoint"),
            std::string::npos)
      << load_error(junk, identity());
  // A torch archive without the checkpoint record.
  const auto other = dir / "other.pt";
  torch::serialize::OutputArchive ar;
  ar.write("x", torch::ones({2}));
  ar.save_to(other.string());
  EXPECT_NE(load_error(other, identity()).find(": not a tutti checkpoint"), std::string::npos)
      << load_error(other, identity());
}

TEST(Checkpoint, DataDigestFollowsTheClips) {
  auto a = tutti::data::BagDataset::zeros(3, 2, 4, {"a", "b"}, tutti::data::FeatureType::kUint8);
  auto v = tutti::data::BagDataset::zeros(1, 2, 4, {"a", "b"}, tutti::data::FeatureType::kUint8);
  const auto d0 = tutti::train::checkpoint_data_digest(a, v);
  EXPECT_EQ(d0.size(), 16u);
  EXPECT_EQ(tutti::train::checkpoint_data_digest(a, v), d0);
  a.x_u8[5] = 1;
  const auto d1 = tutti::train::checkpoint_data_digest(a, v);
  EXPECT_NE(d1, d0);
  v.y_mask[1] = 1;
  EXPECT_NE(tutti::train::checkpoint_data_digest(a, v), d1);
  // The same clips split differently between training and validation differ too.
  EXPECT_NE(tutti::train::checkpoint_data_digest(v, a), tutti::train::checkpoint_data_digest(a, v));
}
