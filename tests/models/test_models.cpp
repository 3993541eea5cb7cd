// Unit tests of the neural bag models: parameter counts, the registry and its errors, options,
// masking (padding invariance, variable-length bags), FC's fixed-length rule, initialization
// distributions and determinism. Agreement with the PyTorch reference is in test_reference.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {
namespace {

using torch::indexing::Slice;

ModelSpec spec_of(const std::string& name, std::int64_t d = 128, std::int64_t c = 20,
                  std::int64_t k = 10, core::Json options = core::Json::object()) {
  ModelSpec s;
  s.name = name;
  s.input_dim = d;
  s.num_classes = c;
  s.max_instances = k;
  s.options = std::move(options);
  return s;
}

BagModel seeded_model(const ModelSpec& spec, std::uint64_t seed = 1) {
  torch::manual_seed(seed);
  return make_model(spec);
}

// A batch with the given bag lengths, K columns; real instances first, in [0, 1); padded slots
// filled with `garbage` (+ noise) so that any leak of padding into an output shows.
std::pair<torch::Tensor, torch::Tensor> make_batch(const std::vector<std::int64_t>& lengths,
                                                   std::int64_t k, std::int64_t d,
                                                   double garbage = 0.0, std::uint64_t seed = 5) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto b = static_cast<std::int64_t>(lengths.size());
  auto x = torch::rand({b, k, d}, gen);
  auto mask = torch::zeros({b, k}, torch::kBool);
  for (std::int64_t i = 0; i < b; ++i) {
    mask.index_put_({i, Slice(0, lengths[i])}, true);
    x.index_put_({i, Slice(lengths[i])}, garbage + 50.0 * x.index({i, Slice(lengths[i])}));
  }
  return {x, mask};
}

// Max |a - b| as double.
double diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return INFINITY;
  return (a - b).abs().max().item<double>();
}

const std::vector<std::string> kVariableLength = {"att", "fc_t", "rnn"};

// Every name make_model builds: the declared neural models and the aliases.
std::vector<std::string> buildable_names() {
  auto v = neural_model_names();
  for (const auto& a : model_alias_names()) v.push_back(a);
  return v;
}

// Options that turn dropout off, so that train mode is deterministic.
core::Json no_dropout() { return {{"dropout", 0.0}}; }

// --- Registry, spec, options ---------------------------------------------------------------------

TEST(Registry, NamesAndFixedLength) {
  EXPECT_EQ(model_names(), (std::vector<std::string>{"att", "fc_t", "rnn", "fc", "rf", "mmgat"}));
  EXPECT_EQ(neural_model_names(), (std::vector<std::string>{"att", "fc_t", "rnn", "fc", "mmgat"}));
  EXPECT_EQ(model_alias_names(),
            (std::vector<std::string>{"mmgat-single", "mmgat-principal", "mmgat-graph"}));
  for (const auto& n : buildable_names()) EXPECT_TRUE(has_model_class(n)) << n;
  EXPECT_FALSE(has_model_class("rf"));
  EXPECT_TRUE(requires_fixed_length("fc"));
  for (const auto& n : kVariableLength) EXPECT_FALSE(requires_fixed_length(n)) << n;
  EXPECT_FALSE(requires_fixed_length("no_such_model"));
}

TEST(Registry, ParameterCountsAtDefaultSizes) {
  // The counts of the published models (D = 128, C = 20, K = 10).
  EXPECT_EQ(count_parameters(*make_model(spec_of("att"))), 55336);
  EXPECT_EQ(count_parameters(*make_model(spec_of("fc_t"))), 52116);
  EXPECT_EQ(count_parameters(*make_model(spec_of("fc"))), 986772);
  EXPECT_EQ(count_parameters(*make_model(spec_of("rnn"))), 226068);
}

TEST(Registry, ParameterCountsByFormula) {
  const std::int64_t d = 40, c = 7, k = 6, h = 64;
  // ATT: input batch-norm (2D) + 3 x [D*D linear + 2D batch-norm] + 2 x [D*C + C].
  EXPECT_EQ(count_parameters(*make_model(spec_of("att", d, c, k))),
            2 * d + 3 * (d * d + 2 * d) + 2 * (d * c + c));
  // FC_T: 3 x [D*D + D] + D*C + C.
  EXPECT_EQ(count_parameters(*make_model(spec_of("fc_t", d, c, k))), 3 * (d * d + d) + d * c + c);
  // FC: K*D -> 512 -> 512 -> 128 -> C, each with a bias.
  EXPECT_EQ(count_parameters(*make_model(spec_of("fc", d, c, k))),
            (k * d * 512 + 512) + (512 * 512 + 512) + (512 * 128 + 128) + (128 * c + c));
  // RNN: per direction and layer 3H x (in + H) weights + 2 x 3H biases; in = D, then 2H.
  const std::int64_t gru = 2 * (3 * h * (d + h) + 6 * h) + 2 * 2 * (3 * h * (2 * h + h) + 6 * h);
  EXPECT_EQ(count_parameters(*make_model(spec_of("rnn", d, c, k))), gru + 2 * h * c + c);
  // Options change the sizes.
  EXPECT_EQ(count_parameters(*make_model(spec_of("att", d, c, k, {{"num_layers", 1}}))),
            2 * d + (d * d + 2 * d) + 2 * (d * c + c));
  EXPECT_EQ(count_parameters(*make_model(spec_of("fc", d, c, k, {{"hidden", {9}}}))),
            (k * d * 9 + 9) + (9 * c + c));
  EXPECT_EQ(count_parameters(
                *make_model(spec_of("rnn", d, c, k, {{"hidden_size", 4}, {"num_layers", 1}}))),
            2 * (3 * 4 * (d + 4) + 6 * 4) + 8 * c + c);
}

TEST(Registry, UnknownModelNameIsUsageError) {
  try {
    make_model(spec_of("attention_please"));
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'attention_please'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("att, fc_t, rnn, fc, rf, mmgat"), std::string::npos)
        << e.what();
  }
}

TEST(Registry, UnknownOptionIsUsageErrorNamingIt) {
  for (const auto& name : buildable_names()) {
    try {
      make_model(spec_of(name, 128, 20, 10, {{"dropout", 0.1}, {"learning_rate", 0.1}}));
      FAIL() << name << ": no exception";
    } catch (const UsageError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("unknown option 'learning_rate'"), std::string::npos) << what;
      EXPECT_NE(what.find(name), std::string::npos) << what;
    }
  }
}

TEST(Registry, InvalidOptionValuesAreUsageErrors) {
  EXPECT_THROW(make_model(spec_of("att", 128, 20, 10, {{"dropout", 1.5}})), UsageError);
  EXPECT_THROW(make_model(spec_of("att", 128, 20, 10, {{"dropout", "high"}})), UsageError);
  EXPECT_THROW(make_model(spec_of("att", 128, 20, 10, {{"num_layers", 0}})), UsageError);
  EXPECT_THROW(make_model(spec_of("att", 128, 20, 10, {{"num_layers", 2.5}})), UsageError);
  EXPECT_THROW(make_model(spec_of("fc_t", 128, 20, 10, {{"negative_slope", -1}})), UsageError);
  EXPECT_THROW(make_model(spec_of("fc", 128, 20, 10, {{"hidden", core::Json::array()}})),
               UsageError);
  EXPECT_THROW(make_model(spec_of("fc", 128, 20, 10, {{"hidden", {64, 0}}})), UsageError);
  EXPECT_THROW(make_model(spec_of("fc", 128, 20, 10, {{"hidden", 64}})), UsageError);
  EXPECT_THROW(make_model(spec_of("rnn", 128, 20, 10, {{"hidden_size", 0}})), UsageError);
  EXPECT_THROW(make_model(spec_of("rnn", 0, 20, 10)), UsageError);
  EXPECT_THROW(make_model(spec_of("att", 128, 0, 10)), UsageError);
  EXPECT_THROW(make_model(spec_of("fc", 128, 20, 0)), UsageError);
  auto bad = spec_of("att");
  bad.options = core::Json::array();
  EXPECT_THROW(make_model(bad), UsageError);
}

TEST(ModelSpecJson, RoundTripAndErrors) {
  const auto s = spec_of("rnn", 64, 9, 12, {{"hidden_size", 16}});
  const auto r = ModelSpec::from_json(s.to_json());
  EXPECT_EQ(r.name, "rnn");
  EXPECT_EQ(r.input_dim, 64);
  EXPECT_EQ(r.num_classes, 9);
  EXPECT_EQ(r.max_instances, 12);
  EXPECT_EQ(r.options, s.options);
  const auto d = ModelSpec::from_json({{"name", "att"}});
  EXPECT_EQ(d.input_dim, 128);
  EXPECT_EQ(d.num_classes, 20);
  EXPECT_THROW(ModelSpec::from_json({{"input_dim", 3}}), Error);                     // no name
  EXPECT_THROW(ModelSpec::from_json({{"name", "att"}, {"input_dim", "3"}}), Error);  // type
  EXPECT_THROW(ModelSpec::from_json({{"name", "att"}, {"dims", 3}}), Error);         // unknown key
  EXPECT_THROW(ModelSpec::from_json({{"name", "att"}, {"options", 3}}), Error);
  EXPECT_THROW(ModelSpec::from_json(core::Json::array()), Error);
}

// --- Forward: shapes, ranges, batch checks ------------------------------------------------------

TEST(Forward, ShapesAndRanges) {
  const auto [x, mask] = make_batch({10, 4, 1}, 10, 128);
  for (const auto& name : buildable_names()) {
    auto m = seeded_model(spec_of(name));
    m->eval();
    const auto in_mask = name == "fc" ? torch::ones_like(mask) : mask;
    const auto out = m->forward(x, in_mask);
    EXPECT_EQ(out.clip.sizes(), (std::vector<std::int64_t>{3, 20})) << name;
    EXPECT_GE(out.clip.min().item<float>(), 0.0f) << name;
    EXPECT_LE(out.clip.max().item<float>(), 1.0f) << name;
    ASSERT_TRUE(out.embedding.defined()) << name;
    EXPECT_EQ(out.embedding.size(0), 3) << name;
    EXPECT_EQ(out.instance.defined(), name != "fc") << name;
    // The registry's flag (what `localize` and `experiment` go by) matches the real outputs.
    EXPECT_EQ(has_instance_outputs(name), out.instance.defined()) << name;
    if (out.instance.defined()) {
      EXPECT_EQ(out.instance.sizes(), (std::vector<std::int64_t>{3, 10, 20})) << name;
    }
    EXPECT_EQ(out.attention.defined(), name == "att" || name.rfind("mmgat", 0) == 0) << name;
  }
}

TEST(Forward, EmbeddingSizes) {
  const auto [x, mask] = make_batch({10, 10}, 10, 128);
  EXPECT_EQ(seeded_model(spec_of("att"))->forward(x, mask).embedding.size(1), 128);
  EXPECT_EQ(seeded_model(spec_of("fc_t"))->forward(x, mask).embedding.size(1), 128);
  EXPECT_EQ(seeded_model(spec_of("fc"))->forward(x, mask).embedding.size(1), 128);
  EXPECT_EQ(seeded_model(spec_of("rnn"))->forward(x, mask).embedding.size(1), 128);
}

TEST(Forward, AttentionIsNormalizedOverRealInstances) {
  const auto [x, mask] = make_batch({7, 1, 3}, 7, 128, 9.0);
  auto m = seeded_model(spec_of("att"));
  m->eval();
  const auto out = m->forward(x, mask);
  const auto fmask = mask.unsqueeze(-1).to(torch::kFloat);
  EXPECT_LT(diff(out.attention.sum(1), torch::ones({3, 20})), 1e-5);
  EXPECT_EQ((out.attention * (1 - fmask)).abs().max().item<float>(), 0.0f);
  EXPECT_EQ((out.instance * (1 - fmask)).abs().max().item<float>(), 0.0f);
  // A single-instance bag: the clip output is that instance's prediction.
  EXPECT_LT(diff(out.clip[1], out.instance[1][0]), 1e-6);
}

TEST(Forward, BadBatchesAreErrors) {
  auto m = seeded_model(spec_of("att", 8, 3));
  m->eval();
  const auto x = torch::rand({2, 4, 8});
  const auto mask = torch::ones({2, 4}, torch::kBool);
  EXPECT_NO_THROW(m->forward(x, mask));
  EXPECT_THROW(m->forward(torch::rand({2, 4, 9}), mask), Error);          // wrong D
  EXPECT_THROW(m->forward(torch::rand({4, 8}), mask), Error);             // not 3-D
  EXPECT_THROW(m->forward(x.to(torch::kDouble), mask), Error);            // not float32
  EXPECT_THROW(m->forward(x, mask.to(torch::kFloat)), Error);             // mask not bool
  EXPECT_THROW(m->forward(x, torch::ones({2, 5}, torch::kBool)), Error);  // mask shape
  auto empty_bag = mask.clone();
  empty_bag[1] = false;
  try {
    m->forward(x, empty_bag);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bag 1"), std::string::npos) << e.what();
  }
  // Batch-norm in training needs two real instances in the batch.
  m->train();
  EXPECT_THROW(m->forward(torch::rand({1, 3, 8}), torch::tensor({{true, false, false}})), Error);
}

TEST(Forward, RnnNeedsRealInstancesFirst) {
  auto m = seeded_model(spec_of("rnn", 8, 3));
  m->eval();
  const auto x = torch::rand({1, 4, 8});
  EXPECT_NO_THROW(m->forward(x, torch::tensor({{true, true, false, false}})));
  EXPECT_THROW(m->forward(x, torch::tensor({{true, false, true, false}})), Error);
  EXPECT_THROW(m->forward(x, torch::tensor({{false, true, true, true}})), Error);
}

// --- FC: fixed length only ---------------------------------------------------------------------

TEST(Fc, RefusesVariableLengthBags) {
  auto m = seeded_model(spec_of("fc", 16, 4, 5));
  m->eval();
  const auto x = torch::rand({3, 5, 16});
  EXPECT_NO_THROW(m->forward(x, torch::ones({3, 5}, torch::kBool)));
  // A bag with fewer real instances.
  auto mask = torch::ones({3, 5}, torch::kBool);
  mask.index_put_({2, Slice(3)}, false);
  try {
    m->forward(x, mask);
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("fixed-length"), std::string::npos) << what;
    EXPECT_NE(what.find("bag 2 of the batch has 3 real instances"), std::string::npos) << what;
  }
  // A batch of another length K.
  try {
    m->forward(torch::rand({3, 4, 16}), torch::ones({3, 4}, torch::kBool));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("got K = 4"), std::string::npos) << e.what();
  }
}

// --- Masking -----------------------------------------------------------------------------------

// Appending padded instances full of garbage (and changing the garbage in existing padding) must
// not change any output, in eval mode and in train mode with dropout 0 (batch-norm statistics).
void expect_padding_invariant(const std::string& name, bool training) {
  SCOPED_TRACE(name + (training ? " train" : " eval"));
  const std::vector<std::int64_t> lengths = {6, 2, 1, 5};
  const std::int64_t d = 12, c = 4;
  const auto spec = spec_of(name, d, c, 6, no_dropout());
  auto [x1, m1] = make_batch(lengths, 6, d, 0.0, 11);
  auto [x2, m2] = make_batch(lengths, 15, d, -77.0, 12);
  x2.index_put_({Slice(), Slice(0, 6)},
                x1 * m1.unsqueeze(-1) + x2.index({Slice(), Slice(0, 6)}) * (~m1).unsqueeze(-1));
  // NaN in padding must not leak either.
  x2.index_put_({3, 10, 0}, NAN);

  auto a = seeded_model(spec, 3);
  auto b = seeded_model(spec, 3);
  a->train(training);
  b->train(training);
  const auto o1 = a->forward(x1, m1);
  const auto o2 = b->forward(x2, m2);
  EXPECT_LT(diff(o1.clip, o2.clip), 1e-6);
  EXPECT_LT(diff(o1.embedding, o2.embedding), 1e-6);
  const auto head = Slice(0, 6), tail = Slice(6);
  const std::pair<torch::Tensor, torch::Tensor> per_instance[] = {{o1.instance, o2.instance},
                                                                  {o1.attention, o2.attention}};
  for (const auto& [t1, t2] : per_instance) {
    ASSERT_EQ(t1.defined(), t2.defined());
    if (!t1.defined()) continue;
    EXPECT_LT(diff(t1, t2.index({Slice(), head})), 1e-6);
    EXPECT_EQ(t2.index({Slice(), tail}).abs().max().item<float>(), 0.0f);
  }
  // Batch-norm running statistics were updated from the same real instances.
  const auto bufs_a = a->named_buffers(), bufs_b = b->named_buffers();
  for (const auto& buf : bufs_a) {
    EXPECT_LT(diff(buf.value().to(torch::kDouble), bufs_b[buf.key()].to(torch::kDouble)), 1e-6)
        << buf.key();
  }
}

TEST(Masking, PaddingInvarianceEval) {
  for (const auto& name : kVariableLength) expect_padding_invariant(name, false);
}

TEST(Masking, PaddingInvarianceTrainWithoutDropout) {
  for (const auto& name : kVariableLength) expect_padding_invariant(name, true);
}

// Bags of 1..40 instances in one batch give the same outputs as each bag alone, unpadded.
TEST(Masking, VariableLengthBagsMatchSingleBags) {
  std::vector<std::int64_t> lengths;
  for (std::int64_t n = 1; n <= 40; ++n) lengths.push_back(n);
  const std::int64_t d = 16, c = 5;
  const auto [x, mask] = make_batch(lengths, 40, d, 3.0, 21);
  for (const auto& name : kVariableLength) {
    SCOPED_TRACE(name);
    auto m = seeded_model(spec_of(name, d, c, 40), 4);
    m->eval();
    const auto all = m->forward(x, mask);
    for (std::int64_t i = 0; i < 40; ++i) {
      const std::int64_t n = lengths[i];
      const auto xi = x.index({Slice(i, i + 1), Slice(0, n)});
      const auto one = m->forward(xi, torch::ones({1, n}, torch::kBool));
      EXPECT_LT(diff(all.clip[i], one.clip[0]), 1e-5) << "bag of " << n;
      EXPECT_LT(diff(all.embedding[i], one.embedding[0]), 1e-5) << "bag of " << n;
      EXPECT_LT(diff(all.instance.index({i, Slice(0, n)}), one.instance[0]), 1e-5) << n;
      if (all.attention.defined()) {
        EXPECT_LT(diff(all.attention.index({i, Slice(0, n)}), one.attention[0]), 1e-5) << n;
      }
    }
  }
}

// ATT's batch-norm in training normalizes with the statistics of the real instances only.
TEST(Masking, AttTrainBatchNormUsesRealInstancesOnly) {
  const std::int64_t d = 8;
  auto m = seeded_model(spec_of("att", d, 3, 4, no_dropout()));
  m->train();
  const auto [x, mask] = make_batch({4, 1, 2}, 4, d, 100.0);
  m->forward(x, mask);
  const auto real = x.index({mask});  // [7, D]
  torch::Tensor running_mean;
  for (const auto& b : m->named_buffers())
    if (b.key() == "input_bn.running_mean") running_mean = b.value();
  ASSERT_TRUE(running_mean.defined());
  // momentum 0.1 from 0: running_mean = 0.1 * mean over the 7 real instances.
  EXPECT_LT(diff(running_mean, 0.1 * real.mean(0)), 1e-6);
}

// ATT and FC_T pool without order, so real instances may sit anywhere in the mask.
TEST(Masking, AttAndFcTAcceptMasksWithGaps) {
  const std::int64_t d = 8, c = 3;
  const auto [x, mask] = make_batch({3, 2}, 3, d);
  // The same instances spread over 6 columns with padding between them.
  auto xg = torch::full({2, 6, d}, 1e4f);
  auto mg = torch::zeros({2, 6}, torch::kBool);
  const std::vector<std::vector<std::int64_t>> cols = {{1, 3, 4}, {0, 5}};
  for (std::int64_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < cols[i].size(); ++j) {
      xg.index_put_({i, cols[i][j]}, x.index({i, static_cast<std::int64_t>(j)}));
      mg.index_put_({i, cols[i][j]}, true);
    }
  }
  for (const auto& name : {"att", "fc_t"}) {
    auto m = seeded_model(spec_of(name, d, c, 6));
    m->eval();
    const auto a = m->forward(x, mask);
    const auto b = m->forward(xg, mg);
    EXPECT_LT(diff(a.clip, b.clip), 1e-6) << name;
    EXPECT_LT(diff(a.embedding, b.embedding), 1e-6) << name;
    EXPECT_LT(diff(a.instance.index({1, 1}), b.instance.index({1, 5})), 1e-6) << name;
  }
}

// The trainer runs inference under torch::InferenceMode and saves weights with torch's archives.
TEST(Forward, InferenceModeAndArchiveRoundTrip) {
  const auto [x, mask] = make_batch({10, 4, 7}, 10, 32);
  for (const auto& name : buildable_names()) {
    SCOPED_TRACE(name);
    const auto spec = spec_of(name, 32, 6, 10);
    const auto in_mask = name == "fc" ? torch::ones_like(mask) : mask;
    auto a = seeded_model(spec, 1);
    a->train();
    a->forward(x, in_mask);  // moves batch-norm running stats away from their initial values
    a->eval();
    const auto want = a->forward(x, in_mask).clip;
    {
      torch::InferenceMode guard;
      EXPECT_TRUE(torch::equal(a->forward(x, in_mask).clip, want));
    }
    std::stringstream buf;
    torch::serialize::OutputArchive out;
    a->save(out);
    out.save_to(buf);
    auto b = seeded_model(spec, 2);
    torch::serialize::InputArchive in;
    in.load_from(buf);
    b->load(in);
    b->eval();
    EXPECT_TRUE(torch::equal(b->forward(x, in_mask).clip, want));
  }
}

// --- Initialization ------------------------------------------------------------------------------

TEST(Init, AttHeUniformZeroBiasUnitBatchNorm) {
  auto m = seeded_model(spec_of("att"), 9);
  int linear_weights = 0;
  for (const auto& p : m->named_parameters()) {
    const auto& key = p.key();
    const auto& t = p.value();
    if (key.find("bn") != std::string::npos) {
      const float want = key.ends_with(".weight") ? 1.0f : 0.0f;
      EXPECT_EQ(t.min().item<float>(), want) << key;
      EXPECT_EQ(t.max().item<float>(), want) << key;
    } else if (key.ends_with(".bias")) {
      EXPECT_EQ(t.abs().max().item<float>(), 0.0f) << key;
    } else {
      ++linear_weights;
      const double bound = std::sqrt(6.0 / static_cast<double>(t.size(1)));
      EXPECT_LE(t.abs().max().item<double>(), bound) << key;
      EXPECT_GT(t.abs().max().item<double>(), 0.95 * bound) << key;  // fills the interval
      // Uniform(-b, b): std b / sqrt(3), mean 0.
      EXPECT_NEAR(t.std().item<double>(), bound / std::sqrt(3.0), 0.05 * bound) << key;
      EXPECT_NEAR(t.mean().item<double>(), 0.0, 0.05 * bound) << key;
    }
  }
  EXPECT_EQ(linear_weights, 5);  // 3 hidden + attention + classifier
}

TEST(Init, FcAndFcTXavierNormalZeroBias) {
  for (const auto& name : {"fc_t", "fc"}) {
    auto m = seeded_model(spec_of(name), 9);
    for (const auto& p : m->named_parameters()) {
      const auto& t = p.value();
      if (p.key().ends_with(".bias")) {
        EXPECT_EQ(t.abs().max().item<float>(), 0.0f) << name << " " << p.key();
        continue;
      }
      const double want = std::sqrt(2.0 / static_cast<double>(t.size(0) + t.size(1)));
      const double tol = t.numel() > 5000 ? 0.05 : 0.15;
      EXPECT_NEAR(t.std().item<double>(), want, tol * want) << name << " " << p.key();
    }
  }
}

TEST(Init, RnnPyTorchDefaults) {
  auto m = seeded_model(spec_of("rnn"), 9);
  const double bound = 1.0 / std::sqrt(64.0);
  for (const auto& p : m->named_parameters()) {
    const double fan_in = p.key().starts_with("classifier") ? 128.0 : 64.0;
    EXPECT_LE(p.value().abs().max().item<double>(), 1.0 / std::sqrt(fan_in)) << p.key();
    if (p.key().starts_with("gru.weight")) {
      EXPECT_GT(p.value().abs().max().item<double>(), 0.95 * bound) << p.key();
    }
  }
}

// --- Determinism ---------------------------------------------------------------------------------

TEST(Determinism, SameSeedSameWeightsAndOutputs) {
  const auto [x, mask] = make_batch({10, 3, 10}, 10, 128);
  for (const auto& name : buildable_names()) {
    SCOPED_TRACE(name);
    const auto in_mask = name == "fc" ? torch::ones_like(mask) : mask;
    auto a = seeded_model(spec_of(name), 42);
    auto b = seeded_model(spec_of(name), 42);
    auto c = seeded_model(spec_of(name), 43);
    const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
    ASSERT_EQ(pa.size(), pb.size());
    bool any_differs = false;
    for (std::size_t i = 0; i < pa.size(); ++i) {
      EXPECT_TRUE(torch::equal(pa[i], pb[i]));
      any_differs |= !torch::equal(pa[i], pc[i]);
    }
    EXPECT_TRUE(any_differs) << "another seed gave the same weights";
    // Train mode with dropout: the same seed gives the same dropout masks.
    a->train();
    b->train();
    torch::manual_seed(7);
    const auto oa = a->forward(x, in_mask);
    torch::manual_seed(7);
    const auto ob = b->forward(x, in_mask);
    EXPECT_TRUE(torch::equal(oa.clip, ob.clip));
    a->eval();
    b->eval();
    EXPECT_TRUE(torch::equal(a->forward(x, in_mask).clip, b->forward(x, in_mask).clip));
  }
}

}  // namespace
}  // namespace tutti::models
