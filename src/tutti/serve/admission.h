// The bounded queue in front of the workers: at most `workers` requests hold a worker at once and
// at most `queue` more are admitted (reading their upload or waiting for a worker). Admission is
// refused at once when both are full, so that a burst costs the server nothing but a 503.
//
//   serve::Admission adm(2, 8);
//   auto ticket = adm.admit();              // empty when full -> 503
//   ... read the upload ...
//   if (!ticket->acquire_worker(deadline))  // false when the deadline passed first -> 503
//   ... compute; the ticket's destructor frees the worker and the place ...
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace tutti::serve {

class Admission {
 public:
  Admission(int workers, int queue);

  class Ticket {
   public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    // Waits for a free worker until `deadline`; true once this ticket holds one.
    bool acquire_worker(std::chrono::steady_clock::time_point deadline);

   private:
    friend class Admission;
    explicit Ticket(Admission& a) : a_(a) {}
    Admission& a_;
    bool working_ = false;
  };

  // A place for one request, or nullptr when workers + queue requests are already admitted.
  std::unique_ptr<Ticket> admit();

  int admitted() const;  // requests admitted (in flight)
  int waiting() const;   // admitted requests that do not hold a worker (the queue length)
  int working() const;   // requests holding a worker

 private:
  const int workers_, capacity_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  int admitted_ = 0, working_ = 0;
};

}  // namespace tutti::serve
