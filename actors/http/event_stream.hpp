#pragma once
// A response that stays open (the v1 APIs' SUBSCRIBE): an actor pushes bytes from its own thread, the HTTP
// server's I/O thread sends them as chunks as fast as the client reads. Bounded: a client that falls more than
// `max_buffered` bytes behind is dropped, and so is the stream, rather than growing the daemon's memory.
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace mesoscaf::http {

class event_stream {
public:
  explicit event_stream(std::size_t max_buffered = 32 << 20) : max_(max_buffered) {}

  // -- the producer (any thread) --
  /// Queues bytes for the client; false once the stream is closed (client gone, overflow or finished).
  bool push(std::string bytes);
  /// Ends the response after what is queued.
  void finish();
  /// Lets `extra` more bytes wait (a first record larger than the bound, e.g. the whole state of a big cluster).
  void raise_limit(std::size_t extra);
  bool closed() const;
  /// `f` runs once when the stream closes for any reason: at once if it already has. From the closing thread.
  void on_close(std::function<void()> f);

  // -- the server's session --
  /// `wake` runs (from any thread) when there is something to send or the stream finished.
  void attach(std::function<void()> wake);
  /// Moves everything queued into `out`; `finished`: no more will come once it is sent.
  void take(std::string& out, bool& finished);
  /// The client disconnected, or could not keep up: the stream is closed.
  void detach();

private:
  void close_locked(std::unique_lock<std::mutex>& guard);

  mutable std::mutex mtx_;
  std::size_t max_;
  std::size_t buffered_ = 0;
  std::deque<std::string> queue_;
  bool finishing_ = false;
  bool closed_ = false;
  std::function<void()> wake_;
  std::function<void()> on_close_;
};

} // namespace mesoscaf::http
