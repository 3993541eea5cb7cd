// Dropping the auxiliary classes of a model trained with --aux-labels (LibTorch; train/ only).
#pragma once

#include <cstdint>

#include "tutti/models/bag_model.h"

namespace tutti::train {

// A model of the same kind and options for the first `classes` classes of `model`, with its
// weights: every parameter or buffer whose first dimension is the number of classes keeps its
// first `classes` rows, every other one is copied. For a model whose classes are independent
// output rows (ATT, FC_T, FC, RNN: per-class heads over a shared body), its outputs are the
// model's first `classes` outputs (up to the rounding of a smaller matrix product). Throws
// tutti::Error when a tensor depends on the classes in another way (e.g. MMGAT's label graph).
models::BagModel keep_first_classes(models::BagModelImpl& model, std::int64_t classes);

}  // namespace tutti::train
