#include "tutti/serve/admission.h"

namespace tutti::serve {

Admission::Admission(int workers, int queue) : workers_(workers), capacity_(workers + queue) {}

std::unique_ptr<Admission::Ticket> Admission::admit() {
  std::lock_guard lock(mu_);
  if (admitted_ >= capacity_) return nullptr;
  ++admitted_;
  return std::unique_ptr<Ticket>(new Ticket(*this));
}

bool Admission::Ticket::acquire_worker(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(a_.mu_);
  if (working_) return true;
  if (!a_.freed_.wait_until(lock, deadline, [&] { return a_.working_ < a_.workers_; }))
    return false;
  ++a_.working_;
  working_ = true;
  return true;
}

Admission::Ticket::~Ticket() {
  {
    std::lock_guard lock(a_.mu_);
    --a_.admitted_;
    if (working_) --a_.working_;
  }
  a_.freed_.notify_one();
}

int Admission::admitted() const {
  std::lock_guard lock(mu_);
  return admitted_;
}
int Admission::waiting() const {
  std::lock_guard lock(mu_);
  return admitted_ - working_;
}
int Admission::working() const {
  std::lock_guard lock(mu_);
  return working_;
}

}  // namespace tutti::serve
