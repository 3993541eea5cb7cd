// MMGAT against its PyTorch/numpy reference (tools/fixtures/make_mmgat_fixture.py, which works
// bag by bag, unpadded, with loops over nodes): the instance graph (cosine / EMD similarity,
// top-k / threshold sparsification, 1..3-hop neighbourhoods), one multi-scale graph attention
// layer with given weights, a whole model (outputs, extra loss, center updates), and the PPMI +
// SVD label embeddings. Tolerance 1e-5 (the reference is float64, we are float32).
#include <gtest/gtest.h>
#include <torch/script.h>

#include <map>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/mmgat_labels.h"

namespace tutti::models {
namespace {

struct Ref {
  core::Json meta;
  std::map<std::string, torch::Tensor> t;
  const torch::Tensor& at(const std::string& k) const {
    const auto it = t.find(k);
    if (it == t.end()) throw std::runtime_error("fixture has no tensor '" + k + "'");
    return it->second;
  }
};

const Ref& ref() {
  static const Ref r = [] {
    auto m = torch::jit::load(testing::fixture("mmgat/reference.pt").string());
    Ref out;
    out.meta = core::Json::parse(m.attr("meta").toStringRef());
    for (const auto& b : m.named_buffers()) out.t[b.name] = b.value;
    return out;
  }();
  return r;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

GraphOptions graph_options(const core::Json& j) {
  GraphOptions o;
  o.similarity = j.at("similarity").get<std::string>();
  o.sparsify = j.at("sparsify").get<std::string>();
  o.top_k = j.at("top_k").get<std::int64_t>();
  o.threshold = j.at("threshold").get<double>();
  o.center = j.at("graph_center").get<double>();
  o.emd_sigma = j.at("emd_sigma").get<double>();
  o.scales = j.at("scales").get<std::int64_t>();
  return o;
}

TEST(MmgatReference, InstanceGraphs) {
  const auto& graphs = ref().meta.at("graphs");
  ASSERT_EQ(graphs.size(), 4u);
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    SCOPED_TRACE(graphs[i].dump());
    const std::string p = "g" + std::to_string(i) + "__";
    const auto g = build_instance_graph(ref().at(p + "x"), ref().at(p + "mask"),
                                        graph_options(graphs[i]));
    EXPECT_LT(max_abs_diff(g.weight, ref().at(p + "weight")), 1e-5);
    const auto want = ref().at(p + "adjacency").to(torch::kBool);
    ASSERT_EQ(g.adjacency.sizes(), want.sizes());
    EXPECT_TRUE(torch::equal(g.adjacency, want))
        << "adjacency differs in " << (g.adjacency != want).sum().item<std::int64_t>()
        << " entries";
    // The scales grow: s-hop neighbourhoods contain the (s-1)-hop ones, and differ somewhere.
    const auto a1 = want.select(1, 0), a3 = want.select(1, 2);
    EXPECT_TRUE(torch::equal(a1 & a3, a1));
    if (graphs[i].at("sparsify") == "topk") {
      EXPECT_FALSE(torch::equal(a1, a3));
    }
  }
}

TEST(MmgatReference, MultiScaleLayer) {
  const auto& lm = ref().meta.at("layer");
  const auto& go = ref().meta.at("graphs")[lm.at("graph").get<std::size_t>()];
  const auto g = build_instance_graph(ref().at("g0__x"), ref().at("g0__mask"), graph_options(go));
  for (const std::string fusion : {"linear", "tanh"}) {
    SCOPED_TRACE(fusion);
    MultiScaleGatLayer layer(lm.at("hidden").get<std::int64_t>(),
                             lm.at("scales").get<std::int64_t>(), 0.0, fusion);
    std::size_t copied = 0;
    {
      torch::NoGradGuard ng;
      for (const auto& p : layer->named_parameters()) {
        std::string key = "layer__";
        for (char c : p.key()) key += c == '.' ? std::string("__") : std::string(1, c);
        p.value().copy_(ref().at(key));
        ++copied;
      }
    }
    EXPECT_EQ(copied, 7u);
    layer->eval();
    const auto out = layer(ref().at("layer__h"), g.adjacency, g.weight.clamp_min(1e-6).log());
    const auto mask = ref().at("g0__mask").unsqueeze(-1);
    // Only real nodes are defined by the reference.
    EXPECT_LT(max_abs_diff(out * mask, ref().at("layer__out_" + fusion)), 1e-5);
  }
  // The two fusions are different functions.
  EXPECT_GT(max_abs_diff(ref().at("layer__out_linear"), ref().at("layer__out_tanh")), 1e-3);
}

ModelSpec model_spec() { return ModelSpec::from_json(ref().meta.at("model_spec")); }

Mmgat loaded_model() {
  Mmgat m(model_spec());
  torch::NoGradGuard ng;
  std::size_t copied = 0, want = 0;
  const auto copy = [&](const std::string& name, torch::Tensor& v) {
    std::string key = "model__p__";
    for (char c : name) key += c == '.' ? std::string("__") : std::string(1, c);
    v.copy_(ref().at(key));
    ++copied;
  };
  for (auto& p : m->named_parameters()) copy(p.key(), p.value());
  for (auto& b : m->named_buffers()) copy(b.key(), b.value());
  for (const auto& [k, v] : ref().t) want += k.rfind("model__p__", 0) == 0;
  EXPECT_EQ(copied, want) << "parameter sets differ between C++ and the reference";
  return m;
}

TEST(MmgatReference, WholeModelForward) {
  auto m = loaded_model();
  m->eval();
  const auto out = m->forward(ref().at("model__x"), ref().at("model__mask"));
  EXPECT_LT(max_abs_diff(out.clip, ref().at("model__clip")), 1e-5);
  EXPECT_LT(max_abs_diff(out.instance, ref().at("model__instance")), 1e-5);
  EXPECT_LT(max_abs_diff(out.attention, ref().at("model__attention")), 1e-5);
  EXPECT_LT(max_abs_diff(out.embedding, ref().at("model__embedding")), 1e-5);
}

TEST(MmgatReference, ExtraLossAndCenterUpdates) {
  auto m = loaded_model();
  m->train();  // dropout 0 in the fixture: same outputs as eval
  const auto out = m->forward(ref().at("model__x"), ref().at("model__mask"));
  const auto loss = m->extra_loss(out, ref().at("model__y"), ref().at("model__y_mask"));
  EXPECT_NEAR(loss.item<double>(), ref().at("model__extra_loss").item<double>(), 1e-5);
  const auto bufs = m->named_buffers();
  EXPECT_LT(max_abs_diff(bufs["center_class"], ref().at("model__center_class_after")), 1e-5);
  EXPECT_LT(max_abs_diff(bufs["center_group"], ref().at("model__center_group_after")), 1e-5);
  // The loss is differentiable in the model's parameters.
  loss.backward();
  EXPECT_TRUE(m->named_parameters()["aux.weight"].grad().defined());
}

TEST(MmgatReference, PpmiSvdEmbeddingsMatchNumpy) {
  const auto j = core::read_json_file(testing::fixture("mmgat/ppmi.json"));
  const auto n = j.at("n").get<std::int64_t>(), c = j.at("c").get<std::int64_t>();
  std::vector<std::string> classes;
  for (std::int64_t i = 0; i < c; ++i) classes.push_back("c" + std::to_string(i));
  auto ds = data::BagDataset::zeros(n, 1, 2, classes, data::FeatureType::kFloat32);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < c; ++k) {
      ds.y_true[static_cast<std::size_t>(i * c + k)] = j["y_true"][i][k].get<float>();
      ds.y_mask[static_cast<std::size_t>(i * c + k)] =
          static_cast<std::uint8_t>(j["y_mask"][i][k].get<int>());
    }
  const auto ppmi = ppmi_matrix(ds);
  for (std::int64_t a = 0; a < c; ++a)
    for (std::int64_t b = 0; b < c; ++b)
      EXPECT_NEAR(ppmi[static_cast<std::size_t>(a * c + b)], j["ppmi"][a][b].get<double>(), 1e-9);
  const auto dim = j.at("dim").get<std::int64_t>();
  const auto e = ppmi_label_embeddings(ds, dim);
  ASSERT_EQ(static_cast<std::int64_t>(e.size()), c);
  for (std::int64_t a = 0; a < c; ++a) {
    ASSERT_EQ(static_cast<std::int64_t>(e[static_cast<std::size_t>(a)].size()), dim);
    for (std::int64_t k = 0; k < dim; ++k)
      EXPECT_NEAR(e[static_cast<std::size_t>(a)][static_cast<std::size_t>(k)],
                  j["embeddings"][a][k].get<double>(), 1e-9)
          << "class " << a << " dim " << k;
  }
  // d is capped at C.
  EXPECT_EQ(static_cast<std::int64_t>(ppmi_label_embeddings(ds, 100).front().size()), c);
}

}  // namespace
}  // namespace tutti::models
