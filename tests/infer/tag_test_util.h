// Small trained models for the tag tests: 12 synthetic 3 s files embedded with logmel-stats
// (3 instances each), two classes, ATT / FC / RF trained for a few epochs. Made once per process.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <fstream>

#include "../embed/embed_test_util.h"
#include "test_util.h"
#include "tutti/embed/embed_files.h"
#include "tutti/train/train.h"

namespace tutti::testing {

struct TagModels {
  TempDir dir;
  data::BagDataset data;
  std::map<std::string, std::filesystem::path> models;  // "att", "fc", "rf", "att-vggish"
};

inline const TagModels& tag_models() {
  static TagModels m;
  static const bool made = [] {
    TagModels* out = &m;
    const auto audio = out->dir / "audio";
    std::string labels = "file,instrument,relevance\n";
    for (int i = 0; i < 12; ++i) {
      const auto name = fmt::format("clip{:02d}.wav", i);
      write_test_wav(audio / name, 3.0, static_cast<std::uint32_t>(100 + i));
      labels += fmt::format("{},high,{}\n{},low,{}\n", name, i % 2, name, (i / 2) % 2);
    }
    {
      std::ofstream(out->dir / "labels.csv") << labels;
    }
    const auto emb = embed::make_embedder("logmel-stats");
    const std::vector<std::filesystem::path> in = {audio};
    auto r = embed::embed_paths(in, *emb);
    embed::attach_weak_labels(r, out->dir / "labels.csv");
    out->data = r.dataset;
    for (const std::string model : {"att", "fc", "rf"}) {
      auto cfg = train::TrainConfig::for_model(model);
      cfg.epochs = 3;
      cfg.threads = 1;
      cfg.val_fraction = 0.3;
      cfg.rf_trees = 5;
      const auto path = out->dir / (model + ".tutti");
      train::train_model_file(out->data, cfg, path, "tag-test-data");
      out->models[model] = path;
    }
    auto vgg = out->data;
    vgg.embedder = "vggish";
    auto cfg = train::TrainConfig::for_model("att");
    cfg.epochs = 1;
    cfg.threads = 1;
    cfg.val_fraction = 0.3;
    train::train_model_file(vgg, cfg, out->dir / "att-vggish.tutti", "vggish-data");
    out->models["att-vggish"] = out->dir / "att-vggish.tutti";
    auto foo = out->data;
    foo.embedder = "openl3";
    train::train_model_file(foo, cfg, out->dir / "att-openl3.tutti", "openl3-data");
    out->models["att-openl3"] = out->dir / "att-openl3.tutti";
    return true;
  }();
  (void)made;
  return m;
}

}  // namespace tutti::testing
