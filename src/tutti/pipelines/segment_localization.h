// Segment-based localization of a model on a rendered synth set (`tutti localize --strong`): the
// `tutti tag` timeline of every clip of a bag dataset, as events, against strong.csv, scored with
// eval::segment_based_metrics (sed_eval's segment-based F1, default 1 s).
//
//   auto ds = tutti::data::load_bags("synth/dataset.npz");
//   auto ref = tutti::pipelines::read_strong_csv("synth/strong.csv", ds.classes);
//   auto est = tutti::pipelines::predicted_events(pred, ds, info.thresholds);
//   auto s = tutti::eval::segment_based_metrics(ref, est, ds.classes, 1.0);
//
// Each clip is one window (the whole bag; the model's bag length), so the timeline is what
// `tutti tag` gives for the clip's audio: infer::segments_from_timeline with the model's
// thresholds (a class is active in instance t when the clip is tagged with it and, when the
// model has per-instance outputs, instance t's probability reaches the threshold).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/eval/localization.h"
#include "tutti/infer/predictor.h"

namespace tutti::pipelines {

// strong.csv (header with file, instrument, onset_s, offset_s in any order) -> events, read by
// eval::read_event_list with a header required. An instrument outside `classes` (when not empty),
// a bad number or offset < onset is a tutti::Error "<csv>:<line>: ...".
std::vector<eval::Event> read_strong_csv(const std::filesystem::path& csv,
                                         const std::vector<std::string>& classes = {});

// The tag timeline of every clip of ds (p.scores, p.instance when present) as events keyed by
// ds.keys. thresholds: [C].
std::vector<eval::Event> predicted_events(const infer::Predictions& p, const data::BagDataset& ds,
                                          const std::vector<float>& thresholds,
                                          double hop_s = 0.96);

// Predicts and scores. The reference is restricted to ds's keys; a strong.csv file that is not a
// key of ds is an error (wrong CSV for these data).
eval::SegmentReport segment_localization(const infer::Predictor& predictor,
                                         const data::BagDataset& ds,
                                         const std::filesystem::path& strong_csv,
                                         double resolution_s = 1.0, int threads = 0,
                                         const std::string& what = "dataset");

}  // namespace tutti::pipelines
