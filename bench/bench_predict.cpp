// C++ side of bench/predict_side_by_side.sh: the time of infer::Predictor::predict (clip scores)
// on a bag dataset, the work tutti.Model.predict does from Python (bench/predict_python.py).
//   build/bench/bench_predict MODEL.tutti DATA.npz [REPEATS=5] [THREADS=0]
// Prints {"seconds": median, "all": [...], "clips": N}; loading is not timed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tutti/data/bag_io.h"
#include "tutti/infer/predictor.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_predict MODEL.tutti DATA.npz [REPEATS] [THREADS]\n");
    return 2;
  }
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
  try {
    const auto predictor = tutti::infer::Predictor::load(argv[1]);
    const auto ds = tutti::data::load_bags(argv[2]);
    predictor.predict(ds, false, threads);  // warm-up (thread pools, first-touch)
    std::vector<double> secs;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto p = predictor.predict(ds, false, threads);
      secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      if (p.scores.empty()) return 1;
    }
    std::vector<double> sorted = secs;
    std::sort(sorted.begin(), sorted.end());
    std::string all;
    for (double s : secs) all += (all.empty() ? "" : ", ") + std::to_string(s);
    std::printf("{\"seconds\": %.6f, \"all\": [%s], \"clips\": %lld}\n", sorted[sorted.size() / 2],
                all.c_str(), static_cast<long long>(ds.size()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_predict: %s\n", e.what());
    return 1;
  }
  return 0;
}
