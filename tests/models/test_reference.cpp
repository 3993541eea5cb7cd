// The C++ models against the PyTorch reference (tools/fixtures/make_model_fixtures.py): the
// reference's weights are copied into the C++ module by parameter name, then clip, instance,
// attention and embedding outputs, parameter gradients and (train mode) batch-norm running
// statistics must agree. Tolerance: 1e-5 absolute on outputs and running stats (the reference is
// float64, we are float32); gradients 1e-5 absolute + 1e-4 relative.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <map>

#include "test_util.h"
#include "tutti/models/bag_model.h"

namespace tutti::models {
namespace {

struct Fixture {
  ModelSpec spec;
  bool training = false;
  std::map<std::string, torch::Tensor> t;  // buffer name -> tensor

  bool has(const std::string& k) const { return t.count(k) > 0; }
  const torch::Tensor& at(const std::string& k) const {
    const auto it = t.find(k);
    if (it == t.end()) throw std::runtime_error("fixture has no tensor '" + k + "'");
    return it->second;
  }
};

Fixture load_fixture(const std::string& name) {
  const auto path = testing::fixture("models/" + name + ".pt");
  auto m = torch::jit::load(path.string());
  Fixture f;
  f.spec = ModelSpec::from_json(core::Json::parse(m.attr("spec").toStringRef()));
  f.training = m.attr("training_mode").toBool();
  for (const auto& b : m.named_buffers()) f.t[b.name] = b.value;
  return f;
}

std::string key_of(const std::string& prefix, std::string name) {
  std::string out = prefix;
  for (char c : name) out += (c == '.') ? std::string("__") : std::string(1, c);
  return out;
}

// Max |a - b|, or +inf when the shapes differ.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

class Reference : public ::testing::TestWithParam<std::string> {};

TEST_P(Reference, MatchesPyTorch) {
  const Fixture f = load_fixture(GetParam());
  BagModel model = make_model(f.spec);

  // Copy every parameter and buffer; the C++ module must have exactly the reference's entries.
  std::size_t copied = 0;
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : model->named_parameters()) {
      p.value().copy_(f.at(key_of("p__", p.key())));
      ++copied;
    }
    for (const auto& b : model->named_buffers()) {
      b.value().copy_(f.at(key_of("p__", b.key())));
      ++copied;
    }
  }
  std::size_t in_fixture = 0;
  for (const auto& [k, v] : f.t) in_fixture += k.rfind("p__", 0) == 0;
  EXPECT_EQ(copied, in_fixture) << "parameter sets differ between C++ and the reference";

  model->train(f.training);
  const BagOutput out = model->forward(f.at("x"), f.at("mask"));
  const std::pair<const char*, const torch::Tensor*> outputs[] = {{"clip", &out.clip},
                                                                  {"instance", &out.instance},
                                                                  {"attention", &out.attention},
                                                                  {"embedding", &out.embedding}};
  for (const auto& [name, tensor] : outputs) {
    ASSERT_EQ(tensor->defined(), f.has(name)) << name;
    if (!tensor->defined()) continue;
    EXPECT_LE(max_abs_diff(*tensor, f.at(name)), 1e-5) << name;
  }

  (out.clip * f.at("loss_weights")).sum().backward();
  for (const auto& p : model->named_parameters()) {
    const auto& want = f.at(key_of("grad__", p.key()));
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    const double tol = 1e-5 + 1e-4 * want.abs().max().item<double>();
    EXPECT_LE(max_abs_diff(p.value().grad(), want), tol) << "gradient of " << p.key();
  }

  if (f.training) {
    for (const auto& b : model->named_buffers()) {
      const auto key = key_of("after__", b.key());
      if (!f.has(key)) continue;
      EXPECT_LE(max_abs_diff(b.value(), f.at(key)), 1e-5) << "running stat " << b.key();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Reference,
                         ::testing::Values("att_eval", "att_train", "att_2layers_eval", "fc_t_eval",
                                           "fc_t_train", "fc_eval", "rnn_eval",
                                           "rnn_2layers_train"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tutti::models
