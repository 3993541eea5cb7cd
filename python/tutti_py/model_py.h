// tutti._tutti.Model: a trained model in memory (the predictor and the model file's bytes).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "convert.h"
#include "tutti/infer/predictor.h"

namespace tutti::python {

class Model {
 public:
  // Reads and checks a .tutti file (tutti::Error "model: <file>: ..." otherwise).
  static Model load(const std::filesystem::path& path);

  const infer::ModelInfo& info() const { return predictor_->info(); }
  // Where the model was loaded from or written to ("" for a model trained in memory only).
  const std::filesystem::path& path() const { return path_; }
  void set_path(const std::filesystem::path& p) { path_ = p; }

  // X (N, K, D) uint8/float32, n_instances (N,) or None -> {"scores" (N, C), and with
  // `instances` "instance_prob" (N, K, C), "attention" (N, K, C) or None}.
  py::object predict(py::handle x, py::handle n_instances, bool instances, int threads) const;
  // Writes the model file atomically (the same bytes as the file it came from).
  void save(const std::filesystem::path& path) const;
  // An audio file path or a waveform (with sample_rate) -> the tag result as numpy arrays.
  py::dict tag(py::handle audio, py::handle sample_rate, const std::string& vggish) const;

 private:
  std::shared_ptr<const infer::Predictor> predictor_;
  std::vector<std::uint8_t> bytes_;
  std::filesystem::path path_;
};

}  // namespace tutti::python
