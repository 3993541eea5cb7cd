// Training data beyond the task's labels: an auxiliary task (--aux-labels) and distillation from a
// teacher model (--teacher). Torch-free; train_model_file calls it between the validation split
// and train_neural.
//
//   auto ext = tutti::train::extend_training_data(train_part, val_part, cfg, "as20-train.npz");
//   // ext.train: the training clips + the auxiliary file's other clips, classes = the task's
//   //            classes followed by "aux:<name>" for each auxiliary class
//   // ext.val:   the validation clips, the auxiliary classes unknown (selection and thresholds
//   //            stay on the task's classes)
//
// The auxiliary rule (a label counts only where it is known):
// - an auxiliary clip whose key is a training clip's gives that clip its auxiliary labels, as
//   known as the auxiliary file says (Y_mask);
// - an auxiliary clip whose key is a validation clip's is left out (validation stays unseen);
// - every other auxiliary clip is added with its auxiliary labels and every task label unknown
//   (e.g. an AudioSet clip without a music label: AudioSet does not verify absent labels, so its
//   instruments are not known negatives);
// - a training clip the auxiliary file does not hold has its auxiliary labels unknown.
// The auxiliary file must not hold test clips: `tutti experiment` refuses one that does.
//
// Distillation (Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015):
// the teacher's probability p of each task class on every training clip (the added auxiliary
// clips too) gives the target w p + (1 - w) y for a known label y, with w = cfg.teacher_weight,
// and p for an unknown one (which becomes known). The BCE against a mixed target is the w / (1 - w)
// mix of the BCE against each. train_neural then reads y_true as soft targets
// (soft_targets(cfg)).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/train/train_config.h"

namespace tutti::train {

// Auxiliary classes are named with this prefix in the extended datasets.
inline constexpr std::string_view kAuxClassPrefix = "aux:";

// Whether cfg asks for an auxiliary task or a teacher.
bool uses_extra_targets(const TrainConfig& cfg);
// Whether training reads y_true as soft targets (a teacher is set).
bool soft_targets(const TrainConfig& cfg);
// Per-class loss weights for `classes` (the extended classes): aux_weight for the auxiliary
// classes, 1 otherwise; empty when every weight is 1 (the default: no weighting at all).
std::vector<float> class_loss_weights(const TrainConfig& cfg,
                                      const std::vector<std::string>& classes);
// cfg.teacher with "{seed}" replaced by cfg.seed.
std::string teacher_path(const TrainConfig& cfg);

struct ExtendedData {
  data::BagDataset train, val;
  std::int64_t task_classes = 0;  // the first classes: the task's
  std::int64_t aux_joined = 0;    // training clips that got auxiliary labels
  std::int64_t aux_added = 0;     // auxiliary clips added with unknown task labels
  std::int64_t aux_left_out = 0;  // auxiliary clips left out (validation clips)
};

// Throws tutti::Error naming the file: an auxiliary file that cannot be read, whose features
// differ (D, uint8 vs float32), with repeated keys, with class names that collide; a teacher file
// that cannot be read or whose classes differ from the training data's.
ExtendedData extend_training_data(const data::BagDataset& train, const data::BagDataset& val,
                                  const TrainConfig& cfg, const std::string& data_name);

// Throws tutti::Error "<aux file>: holds N clips of the test set <test_name> (e.g. KEY): ..."
// when an auxiliary file given in cfg shares a clip key with `test`.
void check_aux_excludes(const TrainConfig& cfg, const data::BagDataset& test,
                        const std::string& test_name);

}  // namespace tutti::train
