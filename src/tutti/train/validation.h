// Torch-free checks and validation-set helpers shared by the neural trainer, RF_BR and the CLI.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::train {

// Throws tutti::Error "<what>: ..." when `ds` cannot train `model`: no clips, no clip with
// instances, a class without any known label, NaN/inf features, invalid arrays, or variable-length
// bags for a fixed-length model (FC).
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
