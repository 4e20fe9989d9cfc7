#include "actors/http/event_stream.hpp"

#include <utility>

namespace mesoscaf::http {

void event_stream::raise_limit(std::size_t extra) {
  std::lock_guard<std::mutex> guard{mtx_};
  max_ += extra;
}

bool event_stream::push(std::string bytes) {
  std::unique_lock<std::mutex> guard{mtx_};
  if (closed_ || finishing_)
    return false;
  buffered_ += bytes.size();
  if (buffered_ > max_) {
    close_locked(guard);
    return false;
  }
  queue_.push_back(std::move(bytes));
  auto wake = wake_;
  guard.unlock();
  if (wake)
    wake();
  return true;
}

void event_stream::finish() {
  std::unique_lock<std::mutex> guard{mtx_};
  if (closed_ || finishing_)
    return;
  finishing_ = true;
  auto wake = wake_;
  guard.unlock();
  if (wake)
    wake();
}

bool event_stream::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_ || finishing_;
}

void event_stream::on_close(std::function<void()> f) {
  std::unique_lock<std::mutex> guard{mtx_};
  if (!closed_) {
    on_close_ = std::move(f);
    return;
  }
  guard.unlock();
  f();
}

void event_stream::attach(std::function<void()> wake) {
  std::unique_lock<std::mutex> guard{mtx_};
  wake_ = std::move(wake);
  bool pending = !queue_.empty() || finishing_ || closed_;
  auto w = wake_;
  guard.unlock();
  if (pending && w)
    w();
}

void event_stream::take(std::string& out, bool& finished) {
  std::unique_lock<std::mutex> guard{mtx_};
  out.clear();
  for (auto& chunk : queue_)
    out += chunk;
  queue_.clear();
  buffered_ = 0;
  finished = finishing_ || closed_;
  if (finished && !closed_)
    close_locked(guard);
}

void event_stream::detach() {
  std::unique_lock<std::mutex> guard{mtx_};
  if (!closed_)
    close_locked(guard);
}

void event_stream::close_locked(std::unique_lock<std::mutex>& guard) {
  closed_ = true;
  queue_.clear();
  buffered_ = 0;
  // The wake function holds the session: dropping it breaks the cycle stream -> session -> stream.
  auto f = std::move(on_close_);
  auto w = std::move(wake_);
  on_close_ = nullptr;
  wake_ = nullptr;
  guard.unlock();
  if (f)
    f();
  // The session learns of the close (an overflow closes from the producer's side) and ends the response.
  if (w)
    w();
}

} // namespace mesoscaf::http
