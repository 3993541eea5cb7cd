// Torch-free checks and validation-set helpers shared by the neural trainer, RF_BR and the CLI.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::train {

// Float32 features are used as they are, and the models are built for the scale uint8 features
// get (value / 255, in [0, 1]); raw or standardized embeddings a few units wide train too. A
// magnitude above this is taken for unscaled uint8 values stored as float (0-255), on which every
// neural model diverges.
inline constexpr float kMaxFloatFeature = 16.0f;

// Throws tutti::Error "<what>: X is float32 with values up to V ..." when a float32 dataset holds
// a feature whose magnitude exceeds kMaxFloatFeature. uint8 datasets always pass.
void check_feature_scale(const data::BagDataset& ds, const std::string& what);

// Throws tutti::Error "<what>: ..." when `ds` cannot train `model`: no clips, no clip with
// instances, a class without any known label, NaN/inf features, float features beyond
// kMaxFloatFeature (check_feature_scale), invalid arrays, or variable-length bags for a
// fixed-length model (FC).
void check_trainable(const data::BagDataset& ds, const std::string& model, const std::string& what);

// Throws tutti::UsageError "--embedder X: <what> was made by embedder 'Y'" when the user's
// training overrides (`--embedder`) name another embedder than the one recorded in `ds`
// (an empty record accepts any). `train` and `experiment` share it.
void check_embedder_override(const data::BagDataset& ds, const core::Json& overrides,
                             const std::string& what);

// Macro average precision over the classes that have a known positive, on known entries only.
// scores [N,C]. NaN when no class has a known positive.
double macro_average_precision(const data::BagDataset& ds, std::span<const float> scores);

}  // namespace tutti::train
