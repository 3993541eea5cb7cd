// `tutti tsne MODEL.tutti DATA.npz -o FILE.svg [--json]`: t-SNE map of a model's pre-classifier
// clip features (Predictions.embedding), one point per clip with exactly one positive class,
// coloured by that class. The exact algorithm and its choices: src/tutti/eval/tsne.h and
// docs/analysis.md. --json prints one entry of the experiment report's "tsne" section.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/eval/tsne.h"
#include "tutti/infer/predictor.h"
#include "tutti/report/plots.h"
#include "tutti/report/svg.h"

namespace fs = std::filesystem;

namespace tutti::cli {
namespace {

void setup_tsne(CLI::App& root) {
  struct Opts {
    std::string model, data, out;
    eval::TsneConfig cfg;
    std::int64_t max_points = 2000;
    bool json = false;
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "tsne", "t-SNE map of a model's clip embeddings, coloured by class (single-label clips)");
  cmd->add_option("MODEL", o->model, "Model file (.tutti; a neural model)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("DATA", o->data, "Labeled bag dataset (.npz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->out, "Output .svg");
  cmd->add_option("--perplexity", o->cfg.perplexity, "t-SNE perplexity")->capture_default_str();
  cmd->add_option("--iterations", o->cfg.iterations, "Gradient descent iterations (>= 250)")
      ->capture_default_str();
  cmd->add_option("--init", o->cfg.init, "Initial embedding: pca or random")
      ->check(CLI::IsMember({"pca", "random"}))
      ->capture_default_str();
  cmd->add_option("--seed", o->cfg.seed, "Seed of the subsample and the random init")
      ->capture_default_str();
  cmd->add_option("--max-points", o->max_points,
                  "At most this many clips (seeded subsample; exact t-SNE is O(N^2))")
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "Print the points as one JSON object (a model entry of the report's tsne section)");
  cmd->add_option("--threads", o->threads, "CPU threads for the model (default: all cores)");
  cmd->callback([o] {
    check<UsageError>(!o->out.empty() || o->json, "tsne: give -o FILE.svg, --json or both");
    check_outputs_differ("tsne", {{"MODEL", o->model}, {"DATA", o->data}}, {{"-o", o->out}});
    o->cfg.validate();
    const auto predictor = infer::Predictor::load(o->model);
    const auto& info = predictor.info();
    const auto ds = data::load_bags(o->data);
    const auto pts = eval::single_label_points(ds, o->max_points, o->cfg.seed, o->data);
    const auto sub = ds.subset(pts.rows);
    const auto pred = predictor.predict(sub, /*with_instances=*/true, o->threads, o->data);
    check(!pred.embedding.empty() && pred.embedding_dim > 0,
          "tsne: {}: model '{}' has no clip embedding (only the neural models do)", o->model,
          info.spec.name);
    const std::int64_t n = sub.size(), e = pred.embedding_dim;
    check<UsageError>(o->cfg.perplexity < static_cast<double>(n),
                      "tsne: perplexity {} must be less than the number of clips shown ({}); "
                      "lower --perplexity",
                      o->cfg.perplexity, n);
    const std::vector<float> feat(pred.embedding.begin(), pred.embedding.end());
    const auto r = eval::tsne(feat, n, e, o->cfg);
    const double trust = n > 10 ? eval::trustworthiness(feat, e, r.embedding, 2, n, 5) : NAN;

    const std::int64_t omitted = pts.omitted_multi + pts.omitted_none;
    const auto title = fmt::format(
        "t-SNE of {} ({}) on {}: {} single-label clips{}; {} omitted ({} multi-label, {} "
        "without a positive)",
        fs::path(o->model).filename().string(), info.spec.name,
        fs::path(o->data).filename().string(), n,
        pts.subsampled_out ? fmt::format(" (subsample; {} more not shown)", pts.subsampled_out)
                           : std::string(),
        omitted, pts.omitted_multi, pts.omitted_none);
    const auto params = fmt::format("perplexity {:g}, {} iterations, KL {:.3f}, {} init", o->cfg.perplexity,
                                    r.iterations_run, r.kl_divergence, o->cfg.init);
    report::Scatter s;
    s.title = title;
    s.x_label = "t-SNE 1 (" + params + ")";
    s.y_label = "t-SNE 2";
    for (std::int64_t i = 0; i < n; ++i) {
      s.x.push_back(r.embedding[2 * i]);
      s.y.push_back(r.embedding[2 * i + 1]);
    }
    s.labels = pts.labels;
    if (!o->out.empty()) report::write_svg_file(o->out, report::scatter_svg(s));
    if (o->json) {
      core::Json j = {{"title", title + " — " + params},
                      {"x", s.x},
                      {"y", s.y},
                      {"labels", s.labels},
                      {"keys", sub.keys},
                      {"model", o->model},
                      {"model_type", info.spec.name},
                      {"data", o->data},
                      {"embedding_dim", e},
                      {"config", o->cfg.to_json()},
                      {"max_points", o->max_points},
                      {"kl_divergence", r.kl_divergence},
                      {"iterations_run", r.iterations_run},
                      {"learning_rate", r.learning_rate},
                      {"trustworthiness_k5", core::number_or_null(trust)},
                      {"points", n},
                      {"single_label", pts.single_label},
                      {"subsampled_out", pts.subsampled_out},
                      {"omitted_multi_label", pts.omitted_multi},
                      {"omitted_no_label", pts.omitted_none}};
      std::fputs((j.dump(2) + "\n").c_str(), stdout);
    }
    std::fprintf(stderr, "tsne %s: %lld points, KL %.4f after %d iterations%s%s\n",
                 o->data.c_str(), static_cast<long long>(n), r.kl_divergence, r.iterations_run,
                 o->out.empty() ? "" : " -> ", o->out.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("tsne", 35, tutti::cli::setup_tsne);
