// `tutti predict MODEL.tutti DATA.npz -o PRED.npz [--instances]`: clip scores (and per-instance
// outputs) as an .npz numpy can open.
#include <fmt/ranges.h>

#include <cstdio>

#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"
#include "tutti/infer/predictor.h"
#include "tutti/models/model_decl.h"

namespace tutti::cli {
namespace {

void setup_predict(CLI::App& root) {
  struct Opts {
    std::string model, data, out;
    bool instances = false;
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "predict",
      "Score every clip of a bag dataset: scores (N,C) and optional per-instance outputs");
  cmd->add_option("MODEL,--model", o->model, "Model file (.tutti) or shipped model name (as20)")
      ->required()
      ->transform(model_file_or_name());
  cmd->add_option("DATA", o->data, "Bag dataset (.npz; labels not needed)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->out, "Output .npz")->required();
  cmd->add_flag("--instances", o->instances,
                "Also write instance_prob (N,K,C), attention (N,K,C, ATT) and n_instances");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)");
  cmd->callback([o] {
    check_outputs_differ("predict", {{"MODEL", o->model}, {"DATA", o->data}}, {{"-o", o->out}});
    const auto predictor = infer::Predictor::load(o->model);
    const std::string& name = predictor.info().spec.name;
    if (o->instances && !models::has_instance_outputs(name)) {
      std::vector<std::string> with;
      for (const auto& m : models::model_names())
        if (models::has_instance_outputs(m)) with.push_back(m);
      fail("{}: model '{}' has no per-instance outputs (--instances needs one of {})", o->model,
           name, fmt::join(with, ", "));
    }
    const auto ds = data::load_bags(o->data);
    if (o->instances) {
      check(ds.size() > 0, "{}: the dataset has no clips: no per-instance outputs (--instances)",
            o->data);
      check(ds.max_instances > 0,
            "{}: the clips have no instances (K = 0): no per-instance outputs (--instances)",
            o->data);
    }
    const auto p = predictor.predict(ds, o->instances, o->threads, o->data);
    std::map<std::string, data::NpyArray> arrays;
    arrays["scores"] = data::NpyArray::from_f32({p.n, p.c}, p.scores);
    arrays["sample_key"] = data::NpyArray::from_strings(ds.keys);
    arrays["classes"] = data::NpyArray::from_strings(predictor.info().classes);
    if (o->instances) {
      check(!p.instance.empty(), "{}: model '{}' gave no per-instance outputs (--instances)",
            o->model, name);
      arrays["instance_prob"] = data::NpyArray::from_f32({p.n, p.k, p.c}, p.instance);
      if (!p.attention.empty())
        arrays["attention"] = data::NpyArray::from_f32({p.n, p.k, p.c}, p.attention);
      arrays["n_instances"] = data::NpyArray::from_i32({p.n}, ds.n_instances);
    }
    data::write_npz(o->out, arrays);
    std::fprintf(stderr, "predicted %lld clips x %lld classes -> %s\n", static_cast<long long>(p.n),
                 static_cast<long long>(p.c), o->out.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("predict", 32, tutti::cli::setup_predict);
