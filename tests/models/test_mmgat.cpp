// MMGAT unit tests: parameter counts (by formula, printed), options and their errors, the
// ablations, padding invariance, variable-length bags (1..40), finite gradients, determinism of a
// few training steps, the onset table and label-embedding files, and the training-time spec.
// Agreement with the PyTorch reference: test_mmgat_reference.cpp.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "tutti/data/npz.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/mmgat_labels.h"

namespace tutti::models {
namespace {

using torch::indexing::Slice;

const std::vector<std::string> kOpenMic = {
    "accordion", "banjo", "bass",  "cello",     "clarinet",    "cymbals",  "drums",
    "flute",     "guitar", "mallet_percussion", "mandolin",    "organ",    "piano",
    "saxophone", "synthesizer", "trombone", "trumpet", "ukulele", "violin", "voice"};

ModelSpec spec_of(const std::string& name, std::int64_t d = 128, std::int64_t c = 20,
                  core::Json options = core::Json::object()) {
  ModelSpec s;
  s.name = name;
  s.input_dim = d;
  s.num_classes = c;
  s.max_instances = 10;
  s.options = std::move(options);
  return s;
}

// Options as the trainer fills them for OpenMIC's 20 classes (a PPMI matrix of C x C).
core::Json openmic_options(std::int64_t label_dim = 20) {
  std::vector<std::vector<double>> m(20, std::vector<double>(static_cast<std::size_t>(label_dim)));
  for (std::size_t i = 0; i < 20; ++i)
    for (std::size_t j = 0; j < m[i].size(); ++j) m[i][j] = 0.01 * static_cast<double>(i * 7 + j % 5);
  return {{"label_embedding_matrix", m}, {"onset_groups", onset_groups_for(kOpenMic)}};
}

BagModel seeded(const ModelSpec& spec, std::uint64_t seed = 1) {
  torch::manual_seed(seed);
  return make_model(spec);
}

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

double diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return INFINITY;
  return (a - b).abs().max().item<double>();
}

std::int64_t mmgat_params(std::int64_t d, std::int64_t c, std::int64_t h, std::int64_t s,
                          std::int64_t layers, std::int64_t label_dim, std::int64_t groups,
                          bool labels, bool learned_emb) {
  std::int64_t n = (d * h + h) + 2 * h;                               // input + LayerNorm
  n += layers * (h * h + 2 * s * h + h + s + 2 * h);                  // GAT layers
  n += h * h;                                                         // pooling keys
  if (labels) {
    n += label_dim * h + h;                                           // label -> query
    if (learned_emb) n += c * label_dim;                              // learned embeddings
    n += (c * 64 + 64) + (64 * 32 + 32) + (32 * 64 + 64) + (64 * c + c);  // autoencoder
  } else {
    n += c * h;                                                       // free class queries
  }
  n += c * h + c;                                                     // per-class classifiers
  if (groups > 0) n += h * groups + groups;                           // auxiliary head
  return n;
}

TEST(Mmgat, ParameterCounts) {
  const auto opt = openmic_options();
  const std::int64_t full = count_parameters(*make_model(spec_of("mmgat", 128, 20, opt)));
  std::printf("mmgat params (D=128, C=20, H=128, 3 layers, 3 scales, d=20, 3 onset groups): %lld\n",
              static_cast<long long>(full));
  EXPECT_EQ(full, mmgat_params(128, 20, 128, 3, 3, 20, 3, true, false));
  EXPECT_EQ(full, 98260);
  const auto single = count_parameters(*make_model(spec_of("mmgat-single", 128, 20, opt)));
  const auto principal = count_parameters(*make_model(spec_of("mmgat-principal", 128, 20, opt)));
  const auto graph = count_parameters(*make_model(spec_of("mmgat-graph", 128, 20, opt)));
  std::printf("mmgat-single %lld, mmgat-principal %lld, mmgat-graph %lld\n",
              static_cast<long long>(single), static_cast<long long>(principal),
              static_cast<long long>(graph));
  EXPECT_EQ(single, mmgat_params(128, 20, 128, 1, 3, 20, 3, true, false));
  EXPECT_EQ(principal, mmgat_params(128, 20, 128, 3, 3, 20, 0, true, false));
  EXPECT_EQ(graph, mmgat_params(128, 20, 128, 3, 3, 20, 3, false, false));
  // Without a matrix (built outside the trainer): learned embeddings of label_dim.
  EXPECT_EQ(count_parameters(*make_model(spec_of("mmgat", 40, 7, {{"hidden", 16}}))),
            mmgat_params(40, 7, 16, 3, 3, 32, 0, true, true));
  EXPECT_EQ(count_parameters(*make_model(
                spec_of("mmgat", 40, 7, {{"hidden", 16}, {"num_layers", 1}, {"scales", 2}}))),
            mmgat_params(40, 7, 16, 2, 1, 32, 0, true, true));
}

TEST(Mmgat, AblationsDifferAsSpecified) {
  const auto opt = openmic_options();
  auto full = std::dynamic_pointer_cast<MmgatImpl>(make_model(spec_of("mmgat", 128, 20, opt)));
  auto single =
      std::dynamic_pointer_cast<MmgatImpl>(make_model(spec_of("mmgat-single", 128, 20, opt)));
  auto principal =
      std::dynamic_pointer_cast<MmgatImpl>(make_model(spec_of("mmgat-principal", 128, 20, opt)));
  auto graph =
      std::dynamic_pointer_cast<MmgatImpl>(make_model(spec_of("mmgat-graph", 128, 20, opt)));
  ASSERT_TRUE(full && single && principal && graph);
  EXPECT_EQ(full->options().graph.scales, 3);
  EXPECT_EQ(single->options().graph.scales, 1);
  EXPECT_EQ(single->named_parameters()["gat1.att_src"].size(0), 1);
  EXPECT_TRUE(full->options().use_aux);
  EXPECT_FALSE(principal->options().use_aux);
  EXPECT_EQ(principal->named_parameters().find("aux.weight"), nullptr);
  EXPECT_NE(full->named_parameters().find("aux.weight"), nullptr);
  EXPECT_FALSE(graph->options().use_labels);
  EXPECT_EQ(graph->named_parameters().find("enc1.weight"), nullptr);
  EXPECT_EQ(graph->named_buffers().find("label_emb"), nullptr);
  EXPECT_NE(graph->named_parameters().find("class_queries"), nullptr);
  EXPECT_NE(full->named_buffers().find("label_emb"), nullptr);  // given matrix: fixed
  // Every variant runs.
  const auto [x, mask] = make_batch({10, 4, 1}, 10, 128);
  for (auto m : {full, single, principal, graph}) {
    m->eval();
    const auto out = m->forward(x, mask);
    EXPECT_EQ(out.clip.sizes(), (std::vector<std::int64_t>{3, 20}));
    EXPECT_EQ(out.attention.sizes(), (std::vector<std::int64_t>{3, 10, 20}));
    EXPECT_EQ(out.embedding.sizes(), (std::vector<std::int64_t>{3, 128}));
  }
}

TEST(Mmgat, OptionErrors) {
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"similarity", "euclid"}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"similarity", 1}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"sparsify", "knn"}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"top_k", 0}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"threshold", 1.5}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"scales", 0}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"scale_fusion", "cubic"}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"onset_groups", {0, 1}}})), UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"label_embedding_matrix", {{1.0}, {2.0}}}})),
               UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 2, {{"label_embedding_matrix", {{1.0}, {2.0, 3.0}}}})),
               UsageError);
  EXPECT_THROW(make_model(spec_of("mmgat", 16, 3, {{"lambda_aux", -1}})), UsageError);
  try {
    make_model(spec_of("mmgat", 16, 3, {{"similarity", "euclid"}}));
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("cosine, emd"), std::string::npos) << e.what();
  }
}

// Appending padded columns (with garbage) leaves every output and the extra loss unchanged.
void expect_padding_invariant(const std::string& name, bool training, const std::string& sim) {
  SCOPED_TRACE(name + (training ? " train " : " eval ") + sim);
  const std::int64_t d = 24, c = 6;
  core::Json opt = {{"dropout", 0.0}, {"similarity", sim}, {"hidden", 32},
                    {"onset_groups", {0, 1, -1, 0, 2, 1}}, {"ae_mask", 0.0}};
  const auto [x1, m1] = make_batch({6, 2, 1, 5}, 6, d, 0.0, 3);
  auto x2 = torch::cat({x1, 9.0 + torch::rand({4, 5, d})}, 1);
  x2.index_put_({0, 7}, std::nan(""));  // even NaN padding must not leak
  const auto m2 = torch::cat({m1, torch::zeros({4, 5}, torch::kBool)}, 1);
  auto a = seeded(spec_of(name, d, c, opt), 3);
  auto b = seeded(spec_of(name, d, c, opt), 3);
  a->train(training);
  b->train(training);
  const auto o1 = a->forward(x1, m1);
  const auto o2 = b->forward(x2, m2);
  EXPECT_LT(diff(o1.clip, o2.clip), 1e-6);
  EXPECT_LT(diff(o1.embedding, o2.embedding), 1e-6);
  for (const auto& [t1, t2] : {std::pair{o1.instance, o2.instance}, {o1.attention, o2.attention}}) {
    EXPECT_LT(diff(t1, t2.index({Slice(), Slice(0, 6)})), 1e-6);
    EXPECT_EQ(t2.index({Slice(), Slice(6)}).abs().max().item<float>(), 0.0f);
  }
  if (training) {
    const auto y = torch::tensor({{1., 0., 1., 0., 0., 1.},
                                  {0., 1., 0., 0., 1., 0.},
                                  {1., 1., 0., 1., 0., 0.},
                                  {0., 0., 0., 1., 1., 1.}});
    const auto ym = torch::rand({4, c}) < 0.8;
    torch::manual_seed(11);
    const auto l1 = a->extra_loss(o1, y, ym);
    torch::manual_seed(11);
    const auto l2 = b->extra_loss(o2, y, ym);
    EXPECT_NEAR(l1.item<double>(), l2.item<double>(), 1e-6);
    auto ba = a->named_buffers(), bb = b->named_buffers();
    for (const auto& buf : ba) EXPECT_LT(diff(buf.value(), bb[buf.key()]), 1e-6) << buf.key();
  }
}

TEST(Mmgat, PaddingInvariance) {
  for (const auto* name : {"mmgat", "mmgat-single", "mmgat-principal", "mmgat-graph"})
    for (bool training : {false, true})
      for (const auto* sim : {"cosine", "emd"}) expect_padding_invariant(name, training, sim);
  // Threshold sparsification too.
  const auto [x1, m1] = make_batch({6, 3}, 6, 16);
  const auto x2 = torch::cat({x1, torch::rand({2, 3, 16})}, 1);
  const auto m2 = torch::cat({m1, torch::zeros({2, 3}, torch::kBool)}, 1);
  auto m = seeded(spec_of("mmgat", 16, 4, {{"sparsify", "threshold"}, {"threshold", 0.6}}));
  m->eval();
  EXPECT_LT(diff(m->forward(x1, m1).clip, m->forward(x2, m2).clip), 1e-6);
}

TEST(Mmgat, VariableLengthBagsMatchSingleBags) {
  std::vector<std::int64_t> lengths;
  for (std::int64_t n = 1; n <= 40; ++n) lengths.push_back(n);
  const std::int64_t d = 16, c = 5;
  const auto [x, mask] = make_batch(lengths, 40, d, 3.0, 21);
  for (const auto* sim : {"cosine", "emd"}) {
    SCOPED_TRACE(sim);
    auto m = seeded(spec_of("mmgat", d, c, {{"similarity", sim}, {"hidden", 32},
                                            {"onset_groups", {0, 0, 1, 2, -1}}}),
                    4);
    m->eval();
    const auto all = m->forward(x, mask);
    EXPECT_LT(diff(all.attention.sum(1), torch::ones({40, c})), 1e-5);
    for (std::int64_t i = 0; i < 40; ++i) {
      const std::int64_t n = lengths[static_cast<std::size_t>(i)];
      const auto one = m->forward(x.index({Slice(i, i + 1), Slice(0, n)}),
                                  torch::ones({1, n}, torch::kBool));
      EXPECT_LT(diff(all.clip[i], one.clip[0]), 1e-5) << "bag of " << n;
      EXPECT_LT(diff(all.embedding[i], one.embedding[0]), 1e-5) << "bag of " << n;
      EXPECT_LT(diff(all.instance.index({i, Slice(0, n)}), one.instance[0]), 1e-5) << n;
      EXPECT_LT(diff(all.attention.index({i, Slice(0, n)}), one.attention[0]), 1e-5) << n;
    }
  }
}

// Loss = masked BCE + extra loss, as the trainer computes it.
torch::Tensor total_loss(BagModelImpl& m, const torch::Tensor& x, const torch::Tensor& mask,
                         const torch::Tensor& y, const torch::Tensor& ym) {
  const auto out = m.forward(x, mask);
  const auto ymf = ym.to(torch::kFloat32);
  const auto bce = torch::binary_cross_entropy(out.clip, y, {}, at::Reduction::None);
  return (bce * ymf).sum() / ymf.sum() + m.extra_loss(out, y, ym);
}

TEST(Mmgat, GradientsFiniteAndReachEveryParameter) {
  const auto [x, mask] = make_batch({10, 1, 4, 7, 10, 2}, 10, 128);
  torch::manual_seed(9);
  const auto y = (torch::rand({6, 20}) < 0.3).to(torch::kFloat32);
  const auto ym = torch::rand({6, 20}) < 0.8;
  for (const auto* name : {"mmgat", "mmgat-graph"}) {
    SCOPED_TRACE(name);
    auto m = seeded(spec_of(name, 128, 20, openmic_options()));
    m->train();
    // Two steps so that the zero-initialized last decoder layer passes gradient on.
    torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(1e-3));
    for (int step = 0; step < 2; ++step) {
      opt.zero_grad();
      const auto loss = total_loss(*m, x, mask, y, ym);
      ASSERT_TRUE(std::isfinite(loss.item<double>()));
      loss.backward();
      for (const auto& p : m->named_parameters()) {
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
        if (step == 1) {
          EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0)
              << p.key() << " gets no gradient";
        }
      }
      opt.step();
    }
  }
}

TEST(Mmgat, SameSeedSameWeightsAfterTraining) {
  const auto [x, mask] = make_batch({10, 3, 8, 5}, 10, 32);
  const auto y = torch::tensor({{1., 0., 1., 0.}, {0., 1., 0., 0.}, {1., 1., 0., 1.}, {0., 0., 1., 1.}});
  const auto ym = torch::ones({4, 4}, torch::kBool);
  const auto train = [&](std::uint64_t seed) {
    auto m = seeded(spec_of("mmgat", 32, 4, {{"hidden", 16}, {"onset_groups", {0, 1, 0, 2}}}),
                    seed);
    m->train();
    torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(1e-2));
    for (int step = 0; step < 4; ++step) {
      opt.zero_grad();
      total_loss(*m, x, mask, y, ym).backward();
      opt.step();
    }
    return m;
  };
  auto a = train(42), b = train(42), c = train(43);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  bool any_differs = false;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
    any_differs |= !torch::equal(pa[i], pc[i]);
  }
  EXPECT_TRUE(any_differs);
  const auto ba = a->buffers(), bb = b->buffers();
  for (std::size_t i = 0; i < ba.size(); ++i) EXPECT_TRUE(torch::equal(ba[i], bb[i]));
}

TEST(Mmgat, InferenceModeAndArchiveRoundTrip) {
  const auto [x, mask] = make_batch({10, 4, 7}, 10, 32);
  const auto spec = spec_of("mmgat", 32, 4, {{"hidden", 16}, {"onset_groups", {0, 1, 0, 2}},
                                             {"label_embedding_matrix", {{1, 0}, {0, 1}, {1, 1}, {0, 0}}}});
  auto a = seeded(spec, 1);
  a->train();
  const auto out = a->forward(x, mask);
  a->extra_loss(out, torch::ones({3, 4}), torch::ones({3, 4}, torch::kBool));  // moves centers
  a->eval();
  const auto want = a->forward(x, mask).clip;
  {
    torch::InferenceMode guard;
    EXPECT_TRUE(torch::equal(a->forward(x, mask).clip, want));
  }
  std::stringstream buf;
  torch::serialize::OutputArchive ar;
  a->save(ar);
  ar.save_to(buf);
  auto b = seeded(spec, 2);
  torch::serialize::InputArchive in;
  in.load_from(buf);
  b->load(in);
  b->eval();
  EXPECT_TRUE(torch::equal(b->forward(x, mask).clip, want));
}

TEST(Mmgat, ExtraLossNeedsATrainingForward) {
  auto m = seeded(spec_of("mmgat", 16, 3));
  m->eval();
  const auto [x, mask] = make_batch({3, 2}, 3, 16);
  const auto out = m->forward(x, mask);
  EXPECT_THROW(m->extra_loss(out, torch::ones({2, 3}), torch::ones({2, 3}, torch::kBool)), Error);
}

TEST(MmgatLabels, OnsetTableBuiltInAndFile) {
  const auto g = onset_groups_for(kOpenMic);
  ASSERT_EQ(g.size(), 20u);
  const std::map<std::string, std::int64_t> want = {
      {"banjo", 0}, {"piano", 0}, {"trumpet", 0}, {"drums", 0}, {"accordion", 1},
      {"bass", 1},  {"violin", 1}, {"organ", 1}, {"voice", 2}};
  for (std::size_t i = 0; i < kOpenMic.size(); ++i)
    if (want.count(kOpenMic[i])) {
      EXPECT_EQ(g[i], want.at(kOpenMic[i])) << kOpenMic[i];
    }
  EXPECT_EQ(std::count(g.begin(), g.end(), 0), 11);
  EXPECT_EQ(std::count(g.begin(), g.end(), 1), 8);
  EXPECT_EQ(onset_groups_for({"kazoo", "voice"}), (std::vector<std::int64_t>{-1, 2}));
  testing::TempDir dir;
  std::ofstream(dir / "t.csv") << "class,group\nkazoo,buzz\nvoice,sung\nsitar,buzz\n";
  EXPECT_EQ(onset_groups_for({"voice", "sitar", "kazoo", "piano"}, dir / "t.csv"),
            (std::vector<std::int64_t>{1, 0, 0, -1}));
  std::ofstream(dir / "bad.csv") << "kazoo,buzz,extra\n";
  EXPECT_NE(testing::error_of([&] { onset_groups_for({"kazoo"}, dir / "bad.csv"); })
                .find("bad.csv:1"),
            std::string::npos);
  std::ofstream(dir / "dup.csv") << "kazoo,a\nkazoo,b\n";
  EXPECT_NE(testing::error_of([&] { onset_groups_for({"kazoo"}, dir / "dup.csv"); })
                .find("listed twice"),
            std::string::npos);
}

TEST(MmgatLabels, EmbeddingFiles) {
  testing::TempDir dir;
  std::ofstream(dir / "e.csv") << "0.5,1\n-2,3e-1\n0,0\n";
  const auto e = read_label_embeddings(dir / "e.csv", 3);
  EXPECT_EQ(e, (std::vector<std::vector<double>>{{0.5, 1}, {-2, 0.3}, {0, 0}}));
  EXPECT_NE(testing::error_of([&] { read_label_embeddings(dir / "e.csv", 4); }).find("3 rows"),
            std::string::npos);
  std::ofstream(dir / "bad.csv") << "1,2\n3\n";
  EXPECT_NE(testing::error_of([&] { read_label_embeddings(dir / "bad.csv", 2); }).find("bad.csv:2"),
            std::string::npos);
  std::ofstream(dir / "word.csv") << "1,x\n";
  EXPECT_NE(testing::error_of([&] { read_label_embeddings(dir / "word.csv", 1); })
                .find("not a number"),
            std::string::npos);
  data::write_npy(dir / "e.npy", data::NpyArray::from_f32({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read_label_embeddings(dir / "e.npy", 2),
            (std::vector<std::vector<double>>{{1, 2, 3}, {4, 5, 6}}));
  data::write_npy(dir / "v.npy", data::NpyArray::from_f32({3}, {1, 2, 3}));
  EXPECT_NE(testing::error_of([&] { read_label_embeddings(dir / "v.npy", 3); }).find("2-D"),
            std::string::npos);
  EXPECT_THROW(read_label_embeddings(dir / "e.txt", 2), UsageError);
}

TEST(MmgatLabels, TrainingSpecIsFilledAndSelfContained) {
  auto ds = data::BagDataset::zeros(6, 2, 4, {"voice", "piano", "kazoo"},
                                    data::FeatureType::kFloat32);
  const std::vector<float> y = {1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0};
  ds.y_true = y;
  std::fill(ds.y_mask.begin(), ds.y_mask.end(), 1);
  const auto s = mmgat_training_spec(spec_of("mmgat", 4, 3), ds);
  ASSERT_TRUE(s.options.contains("label_embedding_matrix"));
  EXPECT_EQ(s.options["label_embedding_matrix"].size(), 3u);
  EXPECT_EQ(s.options["label_embedding_matrix"][0].size(), 3u);  // min(label_dim 32, C 3)
  EXPECT_EQ(s.options["onset_groups"], core::Json({2, 0, -1}));
  auto m = make_model(s);
  EXPECT_NE(m->named_buffers().find("label_emb"), nullptr);
  // learned: no matrix; graph: no matrix; principal: no groups; other models: unchanged.
  EXPECT_FALSE(mmgat_training_spec(spec_of("mmgat", 4, 3, {{"label_embeddings", "learned"}}), ds)
                   .options.contains("label_embedding_matrix"));
  EXPECT_FALSE(mmgat_training_spec(spec_of("mmgat-graph", 4, 3), ds)
                   .options.contains("label_embedding_matrix"));
  EXPECT_FALSE(
      mmgat_training_spec(spec_of("mmgat-principal", 4, 3), ds).options.contains("onset_groups"));
  EXPECT_EQ(mmgat_training_spec(spec_of("att", 4, 3), ds).options, core::Json::object());
  // A file.
  testing::TempDir dir;
  std::ofstream(dir / "e.csv") << "1,0\n0,1\n1,1\n";
  const auto f = mmgat_training_spec(
      spec_of("mmgat", 4, 3, {{"label_embeddings", (dir / "e.csv").string()}}), ds);
  EXPECT_EQ(f.options["label_embedding_matrix"], core::Json({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}}));
  EXPECT_THROW(mmgat_training_spec(spec_of("mmgat", 4, 3, {{"label_embeddings", "nope.csv"}}), ds),
               Error);
}

}  // namespace
}  // namespace tutti::models
