// MMGAT's label-side inputs, computed at training time and stored in the ModelSpec so that a
// model file is self-contained (torch-free header; docs/models.md, "MMGAT").
//
//   spec = tutti::models::mmgat_training_spec(spec, train_dataset);  // no-op for other models
//
// - Label semantic embeddings (option label_embedding_matrix, C x d): PPMI of label co-occurrence
//   over the training clips' known-positive pairs reduced by SVD (label_embeddings=ppmi, default),
//   or read from a file (label_embeddings=FILE.npy|FILE.csv), or none (learned).
// - Onset groups (option onset_groups, one index per class, -1 = none): the built-in OpenMIC
//   onset table (hard 0, soft 1, other 2) or a class,group CSV (option onset_table).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/models/model_spec.h"

namespace tutti::models {

// The C x C positive PMI matrix of label co-occurrence: n_ab = number of clips where a and b are
// both known positives (n_aa = clips where a is a known positive); PMI = log(n_ab N / (n_a n_b))
// with N = sum n_ab and n_a = sum_b n_ab; PPMI = max(PMI, 0), 0 where n_ab = 0. Row-major.
std::vector<double> ppmi_matrix(const data::BagDataset& ds);

// PPMI reduced to d = min(dim, C) dimensions: U_d sqrt(S_d) of the SVD PPMI = U S V^T, each
// column's sign chosen so that its largest-magnitude entry is positive. C rows of d values.
std::vector<std::vector<double>> ppmi_label_embeddings(const data::BagDataset& ds,
                                                       std::int64_t dim);

// A C x d matrix from FILE.npy (float32/float64, shape (C, d)) or FILE.csv (C lines of d numbers,
// rows in the dataset's class order). Throws tutti::Error naming the file.
std::vector<std::vector<double>> read_label_embeddings(const std::filesystem::path& path,
                                                       std::int64_t num_classes);

// Onset group per class: the built-in table (empty `table`; groups hard 0, soft 1, other 2) or a
// CSV file of class,group rows (an optional header "class,group" is skipped; groups numbered in
// order of first appearance). Classes missing from the table get -1.
std::vector<std::int64_t> onset_groups_for(const std::vector<std::string>& classes,
                                           const std::filesystem::path& table = {});

// For MMGAT (an alias is resolved to mmgat + its options first): fills options
// label_embedding_matrix (unless present, use_labels = false or label_embeddings=learned) and
// onset_groups (unless present or use_aux = false) from the training data; other models are
// returned unchanged.
ModelSpec mmgat_training_spec(ModelSpec spec, const data::BagDataset& train);

}  // namespace tutti::models
