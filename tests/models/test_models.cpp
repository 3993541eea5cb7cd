// Unit tests of the neural bag models: parameter counts, options, masking, init, determinism.
// Numeric agreement with the PyTorch reference is in test_reference.cpp.
#include <gtest/gtest.h>

#include "tutti/core/error.h"
#include "tutti/models/bag_model.h"

namespace tutti::models {
namespace {

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

TEST(Models, AttParameterCount) {
  EXPECT_EQ(count_parameters(*make_model(spec_of("att"))), 55336);
}

TEST(Models, AttForwardShapes) {
  torch::manual_seed(0);
  auto m = make_model(spec_of("att"));
  m->eval();
  auto x = torch::rand({3, 10, 128});
  auto mask = torch::ones({3, 10}, torch::kBool);
  mask.index_put_({1, torch::indexing::Slice(4)}, false);
  auto out = m->forward(x, mask);
  EXPECT_EQ(out.clip.sizes(), (std::vector<std::int64_t>{3, 20}));
  EXPECT_EQ(out.attention.sizes(), (std::vector<std::int64_t>{3, 10, 20}));
  EXPECT_EQ(out.embedding.sizes(), (std::vector<std::int64_t>{3, 128}));
}

}  // namespace
}  // namespace tutti::models
