// Process-wide LibTorch settings shared by training and inference (LibTorch; include only in .cpp
// files of embed, models, train and infer).
#pragma once

#include <torch/torch.h>

#include <string>

namespace tutti::models {

// Sets LibTorch's intra-op threads and the allocator policy below, and returns the device for
// `device` ("cpu" or "cuda"). threads > 0: exactly that many (results are the same bits for a
// given count); 0: automatic, every core unless other processes keep them busy while OpenMP's
// idle threads spin (adapt_threads_to_load). Throws tutti::UsageError for more than 4 threads per
// core (core::resolve_threads), for cuda without a CUDA build of LibTorch or a visible device,
// and for any other device name.
torch::Device setup_torch(int threads, const std::string& device = "cpu");

// Whether libgomp's idle threads wait by spinning: OMP_WAIT_POLICY is not PASSIVE and
// GOMP_SPINCOUNT is not 0 (libgomp reads both once, when it loads).
bool omp_waits_spin();

// With automatic threads (the last setup_torch was given 0) and spinning OpenMP waits: one thread
// while other processes leave fewer free cores than this process would use, every core
// otherwise. A worker that spins while the thread it waits for is descheduled burns the slice
// the other processes need, and each parallel op can cost a whole scheduler slice. With an
// explicit thread count or passive waits it changes nothing. Meant to be called between epochs
// (it samples the load for about 3 ms). Returns the intra-op thread count now in use.
int adapt_threads_to_load();

}  // namespace tutti::models
