// Standalone and in-process elections, URL parsing, factories (the ZooKeeper ones: zookeeper_election.cpp).
#include "actors/ha/leader_election.hpp"

#include "config/support/network_address.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace mesoscaf {

const char* to_string(contender_event e) {
  switch (e) {
    case contender_event::elected:
      return "elected";
    case contender_event::lost:
      return "lost";
  }
  return "?";
}

master_contender::~master_contender() = default;

std::string master_contender::election_node() const {
  return {};
}
master_detector::~master_detector() = default;
in_process_election::~in_process_election() = default;

// -- URL parsing ------------------------------------------------------------------------------------------------

bool is_zookeeper_url(const std::string& text) {
  return text.rfind("zk://", 0) == 0;
}

std::string redact_zookeeper_url(const std::string& text) {
  if (!is_zookeeper_url(text))
    return text;
  auto slash = text.find('/', 5);
  auto at = text.rfind('@', slash);
  if (at == std::string::npos || at < 5)
    return text;
  auto colon = text.find(':', 5);
  if (colon == std::string::npos || colon > at)
    return text.substr(0, 5) + "***" + text.substr(at);
  return text.substr(0, colon + 1) + "***" + text.substr(at);
}

std::string parse_zookeeper_url(const std::string& original, zookeeper_url& out) {
  // Errors quote the URL without its password.
  auto text = redact_zookeeper_url(original);
  if (!is_zookeeper_url(original))
    return "'" + text + "' is not a ZooKeeper URL (zk://[user:password@]host:port[,host:port...]/path)";
  auto rest = original.substr(5);
  auto slash = rest.find('/');
  auto hosts = rest.substr(0, slash);
  std::string credentials;
  if (auto at = hosts.rfind('@'); at != std::string::npos) {
    credentials = hosts.substr(0, at);
    hosts = hosts.substr(at + 1);
    auto colon = credentials.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == credentials.size())
      return "'" + text + "': credentials must be user:password (ZooKeeper's digest scheme)";
    for (unsigned char c : credentials)
      if (c < 0x21 || c == 0x7f)
        return "'" + text + "': credentials must not contain spaces or control characters";
  }
  if (hosts.empty())
    return "'" + text + "' names no ZooKeeper server";
  std::string servers;
  size_t start = 0;
  while (true) {
    auto comma = hosts.find(',', start);
    auto item = hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string host;
    uint16_t port = 0;
    if (std::string err; !parse_host_port(item, host, port, &err))
      return "'" + text + "': server " + err;
    if (!servers.empty())
      servers += ',';
    servers += host + ":" + std::to_string(port);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (slash == std::string::npos)
    return "'" + text + "' has no path (zk://host:port/path)";
  auto path = rest.substr(slash);
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  if (path == "/")
    return "'" + text + "' has no path below the root (zk://host:port/path)";
  // Every segment must be a plain, non-empty name (ZooKeeper refuses "", "." and "..").
  size_t pos = 1;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    auto seg = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (seg.empty() || seg == "." || seg == "..")
      return "'" + text + "' has a bad path '" + path + "'";
    for (unsigned char c : seg)
      if (c < 0x20 || c == 0x7f)
        return "'" + text + "' has a control character in its path";
    if (next == std::string::npos)
      break;
    pos = next + 1;
  }
  out.servers = std::move(servers);
  out.path = std::move(path);
  out.credentials = std::move(credentials);
  return "";
}

// -- standalone -------------------------------------------------------------------------------------------------

namespace {

class standalone_detector : public master_detector {
public:
  explicit standalone_detector(master_location leader) : leader_(std::move(leader)) {}
  ~standalone_detector() override { close(); }

  void watch(std::function<void(const master_location&)> on_change) override {
    // The leader never changes: one report, made here (the mutex orders it against close()).
    std::lock_guard<std::mutex> guard{mtx_};
    if (!closed_ && on_change)
      on_change(leader_);
  }

  void close() override {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
  }

  std::string describe() const override { return leader_.endpoint(); }

private:
  master_location leader_;
  std::mutex mtx_;
  bool closed_ = false;
};

class standalone_contender : public master_contender {
public:
  void contend(master_location, std::function<void(contender_event, const std::string&)> on_event) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!withdrawn_ && on_event)
      on_event(contender_event::elected, "standalone master");
  }
  void withdraw() override {
    std::lock_guard<std::mutex> guard{mtx_};
    withdrawn_ = true;
  }

private:
  std::mutex mtx_;
  bool withdrawn_ = false;
};

} // namespace

std::shared_ptr<master_detector> make_standalone_detector(master_location leader) {
  return std::make_shared<standalone_detector>(std::move(leader));
}

std::shared_ptr<master_contender> make_standalone_contender() {
  return std::make_shared<standalone_contender>();
}

// -- in-process -------------------------------------------------------------------------------------------------

namespace {

class in_process_impl;

using event_fn = std::function<void(contender_event, const std::string&)>;
using change_fn = std::function<void(const master_location&)>;

// One recursive mutex guards the election and is held while callbacks run: callbacks are delivered in order, none
// runs after withdraw()/close() returned, and a callback may call back into the election on its own thread.
class in_process_impl : public in_process_election {
public:
  struct entry {
    uint64_t seq;
    master_location self;
    event_fn on_event;
    bool elected = false;
  };

  std::shared_ptr<master_contender> contender() override;
  std::shared_ptr<master_detector> detector() override;

  void expire_leader() override {
    std::lock_guard<std::recursive_mutex> guard{mtx_};
    if (entries_.empty())
      return;
    auto e = entries_.front();
    entries_.erase(entries_.begin());
    if (e.on_event)
      e.on_event(contender_event::lost, "in-process election: session expired (test)");
    update();
  }

  uint64_t add(master_location self, event_fn on_event) {
    std::lock_guard<std::recursive_mutex> guard{mtx_};
    auto seq = next_seq_++;
    entries_.push_back(entry{seq, std::move(self), std::move(on_event), false});
    update();
    return seq;
  }

  void remove(uint64_t seq) {
    std::lock_guard<std::recursive_mutex> guard{mtx_};
    auto i = std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) { return e.seq == seq; });
    if (i == entries_.end())
      return;
    entries_.erase(i);
    update();
  }

  uint64_t add_watcher(change_fn fn) {
    std::lock_guard<std::recursive_mutex> guard{mtx_};
    auto id = next_seq_++;
    watchers_.emplace_back(id, fn);
    if (fn)
      fn(leader_);
    return id;
  }

  void remove_watcher(uint64_t id) {
    std::lock_guard<std::recursive_mutex> guard{mtx_};
    watchers_.erase(std::remove_if(watchers_.begin(), watchers_.end(), [&](auto& w) { return w.first == id; }),
                    watchers_.end());
  }

private:
  // Called with mtx_ held after every change: elects the earliest entry and tells the detectors.
  void update() {
    master_location now;
    if (!entries_.empty()) {
      auto& first = entries_.front();
      now = first.self;
      if (!first.elected) {
        first.elected = true;
        auto seq = first.seq;
        if (first.on_event)
          first.on_event(contender_event::elected, "in-process election");
        // The callback may have changed the election (re-entrance); the nested update() reported that already.
        if (entries_.empty() || entries_.front().seq != seq)
          return;
      }
    }
    if (now.id == leader_.id)
      return;
    leader_ = now;
    auto watchers = watchers_;
    for (auto& w : watchers)
      if (w.second)
        w.second(leader_);
  }

  std::recursive_mutex mtx_;
  std::vector<entry> entries_;
  std::vector<std::pair<uint64_t, change_fn>> watchers_;
  master_location leader_;
  uint64_t next_seq_ = 1;
};

class in_process_contender : public master_contender {
public:
  explicit in_process_contender(std::shared_ptr<in_process_impl> election) : election_(std::move(election)) {}
  ~in_process_contender() override { withdraw(); }

  void contend(master_location self, event_fn on_event) override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (contended_ || withdrawn_)
        return;
      contended_ = true;
    }
    // Not under mtx_: the `elected` callback runs inside add() and may call withdraw() on this thread.
    auto seq = election_->add(std::move(self), std::move(on_event));
    bool withdrawn_meanwhile = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      seq_ = seq;
      withdrawn_meanwhile = withdrawn_;
    }
    if (withdrawn_meanwhile)
      election_->remove(seq);
  }

  void withdraw() override {
    uint64_t seq = 0;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      withdrawn_ = true;
      seq = seq_;
    }
    if (seq != 0)
      election_->remove(seq);
  }

private:
  std::shared_ptr<in_process_impl> election_;
  std::mutex mtx_;
  uint64_t seq_ = 0;
  bool contended_ = false;
  bool withdrawn_ = false;
};

class in_process_detector : public master_detector {
public:
  explicit in_process_detector(std::shared_ptr<in_process_impl> election) : election_(std::move(election)) {}
  ~in_process_detector() override { close(); }

  void watch(change_fn on_change) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return;
    ids_.push_back(election_->add_watcher(std::move(on_change)));
  }

  void close() override {
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      closed_ = true;
      ids.swap(ids_);
    }
    for (auto id : ids)
      election_->remove_watcher(id);
  }

  std::string describe() const override { return "in-process election"; }

private:
  std::shared_ptr<in_process_impl> election_;
  std::mutex mtx_;
  std::vector<uint64_t> ids_;
  bool closed_ = false;
};

std::shared_ptr<master_contender> in_process_impl::contender() {
  return std::make_shared<in_process_contender>(std::static_pointer_cast<in_process_impl>(shared_from_this()));
}

std::shared_ptr<master_detector> in_process_impl::detector() {
  return std::make_shared<in_process_detector>(std::static_pointer_cast<in_process_impl>(shared_from_this()));
}

} // namespace

std::shared_ptr<in_process_election> in_process_election::make() {
  return std::make_shared<in_process_impl>();
}

// -- by URL -----------------------------------------------------------------------------------------------------

std::shared_ptr<master_detector> make_master_detector(const std::string& url, const zookeeper_options& zk,
                                                      std::string& error) {
  error.clear();
  if (is_zookeeper_url(url)) {
    zookeeper_url parsed;
    error = parse_zookeeper_url(url, parsed);
    if (!error.empty())
      return nullptr;
    return make_zookeeper_detector(parsed, zk);
  }
  master_location loc;
  if (!parse_host_port(url, loc.host, loc.port, &error)) {
    error = "bad master address: " + error + " (expected host:port or zk://host:port[,host:port...]/path)";
    return nullptr;
  }
  // A standalone master has no run ID we could know: its address identifies it.
  loc.id = loc.host + ":" + std::to_string(loc.port);
  return make_standalone_detector(std::move(loc));
}

std::string make_master_run_id(const std::string& host, uint16_t port) {
  thread_local boost::uuids::random_generator gen;
  return host + ":" + std::to_string(port) + "-" + boost::uuids::to_string(gen());
}

} // namespace mesoscaf
