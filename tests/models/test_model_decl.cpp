// The model declarations: every declared default within its range and used by the model, every
// range, choice and type enforced with the model and key named, aliases resolved to the same
// model, the queries answered from the declarations. Reference defaults: docs/models.md.
#include <gtest/gtest.h>

#include <cmath>

#include "tutti/core/error.h"
#include "tutti/models/att.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/fc.h"
#include "tutti/models/fc_t.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/rnn.h"

namespace tutti::models {
namespace {

std::string usage_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

ModelSpec spec_of(const std::string& name, core::Json options = core::Json::object()) {
  ModelSpec s;
  s.name = name;
  s.input_dim = 16;
  s.num_classes = 4;
  s.max_instances = 5;
  s.options = std::move(options);
  return s;
}

// A value of the option's type outside what it accepts (none for free strings and booleans).
std::vector<core::Json> bad_values(const OptionDecl& o) {
  switch (o.type) {
    case OptionType::kNumber:
      return {o.lo - std::max(1.0, std::abs(o.lo)), o.hi + std::max(1.0, std::abs(o.hi)), "text",
              NAN};
    case OptionType::kInteger:
      return {static_cast<std::int64_t>(o.lo) - 1, static_cast<std::int64_t>(o.hi) + 1, 2.5};
    case OptionType::kIntegerList:
      return {core::Json::array(), core::Json::array({static_cast<std::int64_t>(o.lo) - 1}),
              core::Json::array({static_cast<std::int64_t>(o.hi) + 1}), 3};
    case OptionType::kBool:
      return {1, "yes"};
    case OptionType::kString:
      return o.non_empty ? std::vector<core::Json>{"", 3} : std::vector<core::Json>{3};
    case OptionType::kChoice:
      return {"no_such_choice", 1};
    case OptionType::kMatrix:
      return {core::Json::array(), core::Json::parse("[[1.0], [1.0, 2.0]]"),
              core::Json::parse(R"([["a"]])")};
  }
  return {};
}

TEST(ModelDecl, DefaultsAreAcceptedAndOutOfRangeValuesRefusedNamingModelAndKey) {
  for (const auto& d : model_decls()) {
    EXPECT_FALSE(d.summary.empty()) << d.name;
    for (const auto& o : d.options) {
      SCOPED_TRACE(d.name + "." + o.key);
      EXPECT_FALSE(o.help.empty());
      if (!o.def.is_null()) {
        EXPECT_NO_THROW(validate_model_options(d, {{o.key, o.def}}));
      }
      if (o.type == OptionType::kNumber || o.type == OptionType::kInteger) {
        EXPECT_LE(o.lo, o.def.get<double>());
        EXPECT_GE(o.hi, o.def.get<double>());
        const core::Json lo = o.type == OptionType::kInteger
                                  ? core::Json(static_cast<std::int64_t>(o.lo))
                                  : core::Json(o.lo);
        EXPECT_NO_THROW(validate_model_options(d, {{o.key, lo}}));  // inclusive bounds
      }
      for (const auto& bad : bad_values(o)) {
        const auto what = usage_error_of([&] { validate_model_options(d, {{o.key, bad}}); });
        EXPECT_NE(what.find("model '" + d.name + "'"), std::string::npos) << what;
        EXPECT_NE(what.find("'" + o.key + "'"), std::string::npos) << what;
      }
    }
  }
}

TEST(ModelDecl, UnknownOptionListsTheDeclaredOnes) {
  const auto what = usage_error_of([] {
    validate_model_options(model_decl("rnn"), {{"hiden_size", 3}});
  });
  EXPECT_NE(what.find("model 'rnn': unknown option 'hiden_size'"), std::string::npos) << what;
  EXPECT_NE(what.find("valid options: hidden_size, num_layers, dropout"), std::string::npos)
      << what;
  const auto rf = usage_error_of([] { validate_model_options(model_decl("rf"), {{"x", 1}}); });
  EXPECT_NE(rf.find("valid options: none"), std::string::npos) << rf;
}

TEST(ModelDecl, ModelsBuildWithTheDocumentedDefaults) {
  // docs/models.md, "Options" of each model.
  const auto att = AttOptions::from_spec(spec_of("att"));
  EXPECT_DOUBLE_EQ(att.dropout, 0.6);
  EXPECT_EQ(att.num_layers, 3);
  const auto fct = FcTOptions::from_spec(spec_of("fc_t"));
  EXPECT_DOUBLE_EQ(fct.dropout, 0.5);
  EXPECT_DOUBLE_EQ(fct.negative_slope, 0.01);
  EXPECT_EQ(fct.num_layers, 3);
  const auto fc = FcOptions::from_spec(spec_of("fc"));
  EXPECT_EQ(fc.hidden, (std::vector<std::int64_t>{512, 512, 128}));
  EXPECT_DOUBLE_EQ(fc.dropout, 0.5);
  const auto rnn = RnnOptions::from_spec(spec_of("rnn"));
  EXPECT_EQ(rnn.hidden_size, 64);
  EXPECT_EQ(rnn.num_layers, 3);
  EXPECT_DOUBLE_EQ(rnn.dropout, 0.5);
  const auto m = MmgatOptions::from_spec(spec_of("mmgat"));
  EXPECT_EQ(m.hidden, 128);
  EXPECT_EQ(m.graph.top_k, 2);
  EXPECT_DOUBLE_EQ(m.graph.threshold, 0.75);
  EXPECT_EQ(m.graph.scales, 3);
  EXPECT_DOUBLE_EQ(m.dropout, 0.2);
  EXPECT_EQ(m.scale_fusion, "linear");
  EXPECT_EQ(m.label_embeddings, "ppmi");
  EXPECT_EQ(m.label_dim, 32);
  EXPECT_EQ(m.ae_hidden, 64);
  EXPECT_DOUBLE_EQ(m.lambda_aux, 0.1);
  EXPECT_DOUBLE_EQ(m.lambda_ae, 0.5);
  EXPECT_DOUBLE_EQ(m.lambda_c1, 1e-4);
  EXPECT_DOUBLE_EQ(m.center_alpha, 0.5);
  EXPECT_TRUE(m.use_labels);
  EXPECT_TRUE(m.aux_task);
  // The graph builder's own defaults are the declaration's.
  const GraphOptions g;
  EXPECT_EQ(g.similarity, m.graph.similarity);
  EXPECT_EQ(g.sparsify, m.graph.sparsify);
  EXPECT_EQ(g.top_k, m.graph.top_k);
  EXPECT_EQ(g.threshold, m.graph.threshold);
  EXPECT_EQ(g.center, m.graph.center);
  EXPECT_EQ(g.emd_sigma, m.graph.emd_sigma);
  EXPECT_EQ(g.scales, m.graph.scales);
}

TEST(ModelDecl, TrainingDefaultsAndProperties) {
  EXPECT_EQ(model_decl("att").epochs, 250);
  EXPECT_DOUBLE_EQ(model_decl("att").learning_rate, 5e-4);
  EXPECT_DOUBLE_EQ(model_decl("fc").learning_rate, 1e-4);
  EXPECT_DOUBLE_EQ(model_decl("mmgat-graph").learning_rate, 2.5e-4);
  for (const char* n : {"fc_t", "rnn", "fc", "mmgat"}) EXPECT_EQ(model_decl(n).epochs, 100) << n;
  EXPECT_TRUE(requires_fixed_length("fc"));
  EXPECT_FALSE(requires_fixed_length("rf"));
  EXPECT_FALSE(has_instance_outputs("rf"));
  EXPECT_FALSE(has_instance_outputs("fc"));
  EXPECT_TRUE(has_instance_outputs("mmgat-principal"));
  EXPECT_TRUE(is_forest("rf"));
  EXPECT_FALSE(is_forest("att"));
  for (const char* n : {"mmgat", "mmgat-single", "mmgat-principal", "mmgat-graph"})
    EXPECT_TRUE(is_mmgat(n)) << n;
  for (const char* n : {"att", "rf", "nope"}) EXPECT_FALSE(is_mmgat(n)) << n;
  EXPECT_FALSE(is_forest("nope"));
  EXPECT_FALSE(requires_fixed_length("nope"));
  EXPECT_EQ(model_decl("att").fused_engine(), Engine::kFusedStep);
  EXPECT_EQ(model_decl("mmgat-single").fused_engine(), Engine::kFusedOps);
  for (const char* n : {"fc_t", "rnn", "fc"}) {
    EXPECT_EQ(model_decl(n).fused_engine(), Engine::kAutograd) << n;
    EXPECT_TRUE(model_decl(n).has_engine(Engine::kAutograd)) << n;
  }
  EXPECT_TRUE(model_decl("rf").engines.empty());
  EXPECT_EQ(default_experiment_models(),
            (std::vector<std::string>{"att", "fc_t", "rnn", "fc", "rf"}));
  const auto what = usage_error_of([] { model_decl("attn"); });
  EXPECT_NE(what.find("unknown model 'attn' (known: att, fc_t, rnn, fc, rf, mmgat (aliases: "
                      "mmgat-single, mmgat-principal, mmgat-graph))"),
            std::string::npos)
      << what;
  EXPECT_NE(usage_error_of([] { make_model(spec_of("rf")); }).find("random forest"),
            std::string::npos);
}

TEST(ModelDecl, DescribeShowsDefaultAndRange) {
  EXPECT_EQ(model_decl("att").option("dropout")->describe(), "0.6 in [0, 0.999]");
  EXPECT_EQ(model_decl("mmgat").option("similarity")->describe(), "cosine | emd");
  EXPECT_EQ(model_decl("fc").option("hidden")->describe(), "[512,512,128], each in [1, 65536]");
  EXPECT_EQ(model_decl("mmgat").option("onset_table")->describe(), "empty");
  EXPECT_EQ(model_decl("att").option("nope"), nullptr);
}

TEST(ModelAlias, ResolvesToMmgatWithTheAliasOptionsWinning) {
  const auto s = resolve_model_spec(spec_of("mmgat-single", {{"scales", 3}, {"hidden", 8}}));
  EXPECT_EQ(s.name, "mmgat");
  EXPECT_EQ(s.options, core::Json({{"scales", 1}, {"hidden", 8}}));
  EXPECT_EQ(resolve_model_spec(spec_of("att", {{"dropout", 0.1}})).options,
            core::Json({{"dropout", 0.1}}));
  // What each ablation switches off (the old names' meaning, mmgat.h).
  EXPECT_EQ(MmgatOptions::from_spec(spec_of("mmgat-single")).graph.scales, 1);
  EXPECT_FALSE(MmgatOptions::from_spec(spec_of("mmgat-principal")).aux_task);
  EXPECT_TRUE(MmgatOptions::from_spec(spec_of("mmgat-principal")).use_labels);
  EXPECT_FALSE(MmgatOptions::from_spec(spec_of("mmgat-graph")).use_labels);
  EXPECT_TRUE(MmgatOptions::from_spec(spec_of("mmgat-graph")).aux_task);
  // An alias's errors name the alias.
  const auto what = usage_error_of([] { make_model(spec_of("mmgat-graph", {{"hidden", 0}})); });
  EXPECT_NE(what.find("mmgat-graph (= mmgat with"), std::string::npos) << what;
  EXPECT_NE(what.find("'hidden'"), std::string::npos) << what;
}

TEST(ModelAlias, BuildsTheSameModelAsTheOptions) {
  const core::Json groups = {0, 1, -1, 0};
  for (const auto& a : model_aliases()) {
    SCOPED_TRACE(a.name);
    core::Json opt = {{"hidden", 8}, {"onset_groups", groups}};
    torch::manual_seed(4);
    const auto by_alias = make_model(spec_of(a.name, opt));
    for (const auto& [k, v] : a.options.items()) opt[k] = v;
    torch::manual_seed(4);
    const auto by_options = make_model(spec_of("mmgat", opt));
    EXPECT_EQ(by_alias->spec().name, "mmgat");
    EXPECT_EQ(by_alias->spec().options, by_options->spec().options);
    const auto pa = by_alias->named_parameters(), pb = by_options->named_parameters();
    ASSERT_EQ(pa.size(), pb.size());
    for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
    torch::manual_seed(5);
    const auto x = torch::rand({3, 5, 16});
    const auto mask = torch::ones({3, 5}, torch::kBool);
    by_alias->eval();
    by_options->eval();
    EXPECT_TRUE(torch::equal(by_alias->forward(x, mask).clip, by_options->forward(x, mask).clip));
  }
}

}  // namespace
}  // namespace tutti::models
