// The typed results.json schema: round trips, every error path naming file and key, files
// written before still loading (and giving the same report).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/report/experiment_report.h"
#include "tutti/report/results.h"

namespace tutti::report {
namespace {

using core::Json;
using tutti::testing::error_of;
using tutti::testing::fixture;

Json small_json() { return core::read_json_file(fixture("report/results_small.json")); }

eval::EvalReport eval_report(double map, double piano_ap) {
  eval::EvalReport e;
  e.mAP = map, e.auc = 0.75, e.precision_pos = 0.5, e.recall_pos = 0.25, e.f1_pos = 1.0 / 3;
  e.f1_pos_05 = 0.2, e.f1_attmic = 0.6, e.micro = {0.7, 0.8, 0.4};
  eval::ClassMetrics piano;
  piano.name = "piano", piano.n_known = 10, piano.n_pos = 4, piano.ap = piano_ap;
  piano.auc = kNaN, piano.threshold = 0.375;
  eval::ClassMetrics violin = piano;
  violin.name = "violin", violin.skipped = true, violin.skip_reason = "no positive label";
  e.per_class = {piano, violin};
  e.skipped = {"violin"};
  return e;
}

TimelineExample example() {
  TimelineExample e;
  e.clip = "c1";
  e.hop_s = 0.5;
  e.classes = std::vector<std::string>{"piano", "violin"};
  e.prob = {{0.1, kNaN}, {0.25, 0.5}};
  e.attention = std::vector<std::vector<double>>{{0.5, 0.5}, {1.0, 0.0}};
  e.truth = std::map<std::string, std::vector<std::array<double, 2>>>{{"piano", {{0.0, 0.5}}}};
  e.clip_scores = std::vector<double>{0.9, 0.125};
  return e;
}

// Every field set, NaNs included.
Results full_results() {
  Results r;
  r.tutti_version = "0.1.0";
  r.config = {{"models", {"att", "rf"}}, {"seeds", 2}};
  r.data = DataInfo{"a.npz", "00aa", "b.npz", "11bb", {"piano", "violin"}};
  Run run;
  run.model = "att";
  run.seed = 2;
  run.metrics = eval_report(0.5, 0.625);
  run.train_seconds = 1.5, run.seconds_per_epoch = 0.75, run.epochs_run = 2, run.best_epoch = 1;
  run.val_loss = 0.25, run.val_map = kNaN, run.params = 1234, run.infer_clips_per_s = 100.0;
  run.model_file = "att-seed2.tutti";
  run.train_config = {{"model", "att"}, {"seed", 2}};
  RunLocalization loc;
  loc.model = "att", loc.clips = 12, loc.positive_pairs = 20, loc.positive_rate = 0.4;
  loc.random_draws = 5;
  loc.methods["frame"].mAP = Stat::number(0.5);
  loc.methods["frame"].auc = Stat::number(kNaN);
  loc.methods["frame"].skipped = std::vector<std::string>{"violin"};
  loc.methods["frame"].per_class =
      std::map<std::string, InstanceClassResult>{{"piano", {0.5, 0.625, 30, 12}}};
  loc.methods["random"].mAP = Stat{0.25, 0.125, 5};
  loc.methods["random"].auc = Stat{0.5, kNaN, 5};
  loc.examples = {example()};
  run.localization = loc;
  Run rf;
  rf.model = "rf";
  rf.seed = 1;
  rf.metrics = eval_report(kNaN, kNaN);
  r.runs = {run, rf};
  ModelSummary s = ModelSummary::from_runs_summary(eval::summarize_runs(
      std::vector<eval::EvalReport>{eval_report(0.5, 0.5), eval_report(0.75, kNaN)}));
  s.train_seconds = mean_std({1.0, 2.0});
  r.summary["att"] = s;
  r.skipped_models["fc"] = "needs exactly K = 10 instances";
  LocalizationSection ls;
  ls.description = "text";
  ls.models["att"].methods["frame"].mAP = Stat{0.5, kNaN, 1};
  ls.models["att"].methods["frame"].other["ap_at_10"] = Stat::number(0.25);
  ls.models["att"].runs = 1;
  ls.models["att"].examples = std::vector<TimelineExample>{example()};
  r.localization = ls;
  TsneSection ts;
  ts.models["att"].x = {1.0, kNaN};
  ts.models["att"].y = {2.0, 3.0};
  ts.models["att"].labels = {"piano", "violin"};
  ts.models["att"].title = "t-SNE of att";
  ts.models["att"].details = {{"model", "att-seed1.tutti"}, {"points", 2}};
  r.tsne = ts;
  return r;
}

TEST(Results, RoundTripKeepsEveryField) {
  const Results r = full_results();
  const Json j = r.to_json();
  const Results back = Results::from_json(j, "x.json");
  EXPECT_EQ(back.to_json(), j);
  // Spot checks on the typed side (to_json equality alone could hide a field both ways lose).
  ASSERT_EQ(back.runs.size(), 2u);
  const report::Run& run = back.runs[0];
  EXPECT_EQ(run.model, "att");
  EXPECT_EQ(run.seed, 2);
  EXPECT_DOUBLE_EQ(run.metrics.mAP, 0.5);
  EXPECT_DOUBLE_EQ(run.metrics.micro.auc, 0.8);
  EXPECT_EQ(run.metrics.skipped, std::vector<std::string>{"violin"});
  EXPECT_EQ(run.params, 1234);
  EXPECT_EQ(run.epochs_run, 2);
  ASSERT_TRUE(run.val_map.has_value());
  EXPECT_TRUE(std::isnan(*run.val_map));  // null in the file, still present
  EXPECT_EQ(run.model_file, "att-seed2.tutti");
  EXPECT_EQ(run.train_config["model"], "att");
  ASSERT_TRUE(run.localization.has_value());
  EXPECT_TRUE(run.localization->methods.at("frame").mAP->bare);
  EXPECT_FALSE(run.localization->methods.at("random").mAP->bare);
  EXPECT_EQ(run.localization->methods.at("random").mAP->n, 5);
  EXPECT_EQ(run.localization->methods.at("frame").per_class->at("piano").n_instances, 30);
  EXPECT_EQ(run.localization->examples.at(0).truth->at("piano").at(0)[1], 0.5);
  EXPECT_TRUE(std::isnan(run.localization->examples.at(0).prob[0][1]));
  const report::Run& rf = back.runs[1];
  EXPECT_FALSE(rf.params.has_value());  // absent stays absent
  EXPECT_FALSE(rf.localization.has_value());
  EXPECT_FALSE(rf.to_json().contains("params"));
  EXPECT_EQ(back.data->classes, (std::vector<std::string>{"piano", "violin"}));
  EXPECT_EQ(back.skipped_models.at("fc"), "needs exactly K = 10 instances");
  EXPECT_EQ(back.summary.at("att").n_runs, 2);
  EXPECT_DOUBLE_EQ(back.summary.at("att").mAP->mean, 0.625);
  EXPECT_EQ(back.summary.at("att").per_class.at("piano").ap->n, 1);  // NaN in one run
  EXPECT_TRUE(std::isnan(back.summary.at("att").per_class.at("piano").ap->std));
  EXPECT_DOUBLE_EQ(back.summary.at("att").train_seconds->mean, 1.5);
  EXPECT_DOUBLE_EQ(
      back.localization->models.at("att").methods.at("frame").other.at("ap_at_10").mean, 0.25);
  EXPECT_EQ(back.tsne->models.at("att").details["points"], 2);
  EXPECT_EQ(back.tsne->models.at("att").title, "t-SNE of att");
}

TEST(Results, StatLayouts) {
  // {"mean","std","n"} with std null for one value; a bare number; null.
  EXPECT_EQ(Stat({0.5, kNaN, 1}).to_json(), Json::parse(R"({"mean": 0.5, "std": null, "n": 1})"));
  EXPECT_EQ(Stat::number(0.5).to_json(), Json(0.5));
  const Stat bare = Stat::from_json(Json(0.25), "s");
  EXPECT_TRUE(bare.bare);
  EXPECT_EQ(bare.n, 1);
  const Stat null = Stat::from_json(Json(), "s");
  EXPECT_TRUE(std::isnan(null.mean));
  EXPECT_EQ(null.n, 0);
  EXPECT_TRUE(null.to_json().is_null());
  // n defaults from the mean when absent.
  EXPECT_EQ(Stat::from_json(Json::parse(R"({"mean": 0.5, "std": 0.1})"), "s").n, 1);
  EXPECT_EQ(Stat::from_json(Json::parse(R"({"mean": null})"), "s").n, 0);
  // mean_std = numpy.mean / numpy.std(ddof=1) over the finite values.
  const Stat m = mean_std({1, 2, 3, 4, kNaN, INFINITY});
  EXPECT_EQ(m.n, 4);
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.std, 1.2909944487358056, 1e-15);
}

TEST(Results, SummaryOfEvalRunsSummaryLayoutIsMerged) {
  const Json j = Json::parse(R"({"n_runs": 3, "ddof": 1, "skipped": [],
      "mean": {"mAP": 0.9, "per_class": {"piano": {"f1": 0.5}}},
      "std": {"mAP": 0.01, "per_class": {"piano": {"f1": null}}},
      "n": {"mAP": 3, "per_class": {"piano": {"f1": 1}}}})");
  const ModelSummary s = ModelSummary::from_json(j, "summary.m");
  EXPECT_EQ(s.n_runs, 3);
  EXPECT_DOUBLE_EQ(s.mAP->mean, 0.9);
  EXPECT_DOUBLE_EQ(s.mAP->std, 0.01);
  EXPECT_EQ(s.mAP->n, 3);
  EXPECT_TRUE(std::isnan(s.per_class.at("piano").f1->std));
  EXPECT_FALSE(s.auc.has_value());
  // Written in the current layout.
  EXPECT_EQ(s.to_json()["mAP"], Json::parse(R"({"mean": 0.9, "std": 0.01, "n": 3})"));
}

// What `results_small.json` becomes after `mutate`: the error message, "" when it loads.
std::string load_error(const std::function<void(Json&)>& mutate) {
  Json j = small_json();
  mutate(j);
  try {
    Results::from_json(j, "dir/results.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Results, ErrorsNameTheFileAndTheKey) {
  const std::string f = "results: dir/results.json: ";
  struct Case {
    std::function<void(Json&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Json& j) { j["runs"][3]["seed"] = "3"; },
       "runs[3].seed: expected an integer, got string"},
      {[](Json& j) { j["runs"][3]["seed"] = 1.5; },
       "runs[3].seed: expected an integer, got number"},
      {[](Json& j) { j["runs"][0].erase("model"); }, "runs[0].model: missing"},
      {[](Json& j) { j["runs"][0].erase("metrics"); }, "runs[0].metrics: missing"},
      {[](Json& j) { j["runs"][1]["metrics"] = "broken"; },
       "runs[1].metrics: expected an object, got string"},
      {[](Json& j) { j["runs"][1]["metrics"].erase("micro"); },
       "runs[1].metrics: EvalReport::from_json: report has no key 'micro'"},
      {[](Json& j) { j["runs"][1]["metrics"]["skipped"] = {1}; }, "runs[1].metrics: "},
      {[](Json& j) { j["runs"][2]["params"] = "many"; },
       "runs[2].params: expected an integer, got string"},
      {[](Json& j) { j["runs"][2]["train_seconds"] = "x"; },
       "runs[2].train_seconds: expected a number, got string"},
      {[](Json& j) { j["runs"][2]["model_file"] = 3; }, "runs[2].model_file: expected a string"},
      {[](Json& j) { j["runs"][2]["train_config"] = 3; },
       "runs[2].train_config: expected an object"},
      {[](Json& j) {
         j["runs"][2]["localization"] = {{"model", "x"}};
       },
       "runs[2].localization.clips: missing"},
      {[](Json& j) { j["runs"] = Json::object(); }, "runs: expected an array, got object"},
      {[](Json& j) { j["runs"][0] = 5; }, "runs[0]: expected an object, got number"},
      {[](Json& j) { j["tutti_version"] = 1; }, "tutti_version: expected a string"},
      {[](Json& j) { j["data"].erase("train_md5"); }, "data.train_md5: missing"},
      {[](Json& j) { j["data"]["classes"][2] = 7; }, "data.classes[2]: expected a string"},
      {[](Json& j) { j["summary"]["mlp"]["mAP"] = "x"; },
       "summary.mlp.mAP: expected a number or {\"mean\", \"std\", \"n\"}, got string"},
      {[](Json& j) {
         j["summary"]["mlp"]["mAP"] = {{"std", 0.1}};
       },
       "summary.mlp.mAP.mean: missing"},
      {[](Json& j) { j["summary"]["mlp"]["per_class"]["piano"]["f1"]["n"] = 1.5; },
       "summary.mlp.per_class.piano.f1.n: expected an integer"},
      {[](Json& j) { j["summary"]["mlp"]["per_class"] = Json::array(); },
       "summary.mlp.per_class: expected an object, got array"},
      {[](Json& j) {
         j["skipped_models"] = {{"fc", 1}};
       },
       "skipped_models.fc: expected a string"},
      {[](Json& j) { j["localization"]["models"]["mlp"]["examples"][0]["prob"] = "x"; },
       "localization.models.mlp.examples[0].prob: expected an array, got string"},
      {[](Json& j) { j["localization"]["models"]["mlp"]["examples"][0]["prob"][1][2] = "x"; },
       "localization.models.mlp.examples[0].prob[1][2]: expected a number"},
      {[](Json& j) {
         j["localization"]["models"]["mlp"]["examples"][0]["truth"]["piano"][0] = {0, 1, 2};
       },
       "localization.models.mlp.examples[0].truth.piano[0]: expected [start_s, end_s], got array"},
      {[](Json& j) { j["localization"]["models"]["mlp"]["examples"][0].erase("clip"); },
       "localization.models.mlp.examples[0].clip: missing"},
      {[](Json& j) { j["localization"]["models"]["attention"]["methods"]["frame"]["auc"] = "x"; },
       "localization.models.attention.methods.frame.auc: expected a number or"},
      {[](Json& j) { j["localization"]["description"] = 1; },
       "localization.description: expected a string"},
      {[](Json& j) { j["tsne"]["models"]["mlp"].erase("x"); }, "tsne.models.mlp.x: missing"},
      {[](Json& j) { j["tsne"]["models"]["mlp"]["labels"][0] = 3; },
       "tsne.models.mlp.labels[0]: expected a string, got number"},
      {[](Json& j) { j["tsne"] = "x"; }, "tsne: expected an object, got string"},
  };
  for (const auto& c : cases) {
    const std::string e = load_error(c.mutate);
    EXPECT_EQ(e.rfind(f + c.message, 0), 0u) << "got: " << e << "\nexpected: " << f + c.message;
  }
  EXPECT_EQ(error_of([] { Results::from_json(Json::array(), "r.json"); }),
            "results: r.json: expected a JSON object, got array");
  // Nulls where numbers go and missing optional keys are not errors.
  EXPECT_EQ(load_error([](Json& j) {
              j["runs"][0]["metrics"]["mAP"] = nullptr;
              j["runs"][0]["train_seconds"] = nullptr;
              j["runs"][0].erase("params");
              j.erase("data");
              j.erase("summary");
              j.erase("tsne");
            }),
            "");
  // Reading a file names it.
  const auto missing = tutti::testing::source_dir() / "no-such-results.json";
  EXPECT_NE(error_of([&] { Results::load(missing.string()); }).find("no-such-results.json"),
            std::string::npos);
}

// The fixture made before the schema existed still loads, and its report is byte for byte the
// one the JSON-path reader made (md5 of render_experiment_report(results_small.json) before the
// typed schema; a deliberate change of the report's HTML updates it).
TEST(Results, OldFixtureLoadsAndGivesTheSameReport) {
  const Json j = small_json();
  const Results r = Results::from_json(j, "results_small.json");
  EXPECT_EQ(r.runs.size(), 9u);
  EXPECT_EQ(r.summary.size(), 3u);
  EXPECT_EQ(r.runs[0].model_file, "runs/exp1/logreg_seed0.tmod");
  EXPECT_FALSE(r.runs[0].train_config.is_object());  // not recorded then
  EXPECT_TRUE(r.localization->models.at("attention").methods.at("uniform").mAP->bare);
  // Idempotent: what is written reads back to the same JSON.
  const Json once = r.to_json();
  EXPECT_EQ(Results::from_json(once, "once").to_json(), once);
  // The report from the typed results equals the report from the file.
  tutti::testing::TempDir dir;
  write_experiment_report(j, dir / "report.html");
  EXPECT_EQ(core::md5_file_hex(dir / "report.html"), "9ef529d8b108984bd495835dc5150325");
  EXPECT_EQ(render_experiment_report(ExperimentResults(r)), render_experiment_report(j));
}

// results.json written by `tutti experiment` before the typed schema: loads, and writing it back
// gives the same JSON (the writer's bytes did not change).
TEST(Results, CompatFixtureLoadsAndWritesBackUnchanged) {
  const std::filesystem::path path = TUTTI_SOURCE_DIR "/tests/fixtures/compat/results.json";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << "no compatibility fixture " << path << " (a results.json made by "
                 << "`tutti experiment` before the typed schema)";
  const Json j = core::read_json_file(path);
  const Results r = Results::load(path.string());
  EXPECT_FALSE(r.runs.empty());
  EXPECT_EQ(r.to_json(), j);
  EXPECT_EQ(r.to_json().dump(2), j.dump(2));
  EXPECT_FALSE(render_experiment_report(ExperimentResults(r)).empty());
}

}  // namespace
}  // namespace tutti::report
