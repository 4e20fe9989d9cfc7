// ZooKeeper contender and detector (leader_election.hpp). Each runs one own worker thread that owns its
// zookeeper_session and makes every (blocking) ZooKeeper call; the C client's callbacks only queue an event for
// that worker, so they never block the client's completion thread. User callbacks run on the worker thread, never
// after withdraw()/close() returned (these join the worker).
#include "actors/ha/leader_election.hpp"

#include "actors/ha/zookeeper_session.hpp"
#include "config/support/logging.hpp"
#include "config/support/version.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <arpa/inet.h>

namespace mesoscaf {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* node_prefix = "master_";
constexpr milliseconds retry_delay{500};
/// Mesos' own leader records, beside ours: `json.info_<seq>` holding the leader's MasterInfo as JSON.
constexpr const char* mesos_node_prefix = "json.info_";

/// The leader's MasterInfo as Mesos' ZooKeeper detectors (mesos-go's among them) read it. Its endpoint is the
/// master's HTTP port, where the v1 APIs are. `ip` is the IPv4 address in network byte order, as Mesos writes it.
std::string mesos_master_info_json(const master_location& loc) {
  in_addr addr{};
  uint32_t ip = ::inet_pton(AF_INET, loc.host.c_str(), &addr) == 1 ? addr.s_addr : 0;
  nlohmann::json j{{"id", loc.id},
                   {"ip", ip},
                   {"port", loc.http_port},
                   {"pid", "master@" + loc.host + ":" + std::to_string(loc.http_port)},
                   {"hostname", loc.host},
                   {"version", product_version()},
                   {"address", {{"hostname", loc.host}, {"ip", loc.host}, {"port", loc.http_port}}}};
  return j.dump();
}

std::string location_to_json(const master_location& loc) {
  nlohmann::json j{{"id", loc.id}, {"host", loc.host}, {"port", loc.port}, {"http_port", loc.http_port}};
  return j.dump();
}

bool location_from_json(const std::string& text, master_location& out) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  auto id = j.find("id");
  auto host = j.find("host");
  auto port = j.find("port");
  if (id == j.end() || !id->is_string() || id->get<std::string>().empty() || host == j.end() || !host->is_string()
      || port == j.end() || !port->is_number_unsigned() || port->get<uint64_t>() > 65535)
    return false;
  out = master_location{};
  out.id = id->get<std::string>();
  out.host = host->get<std::string>();
  out.port = static_cast<uint16_t>(port->get<uint64_t>());
  // Optional: masters before protocol v5 did not write it.
  if (auto http = j.find("http_port"); http != j.end() && http->is_number_unsigned() && http->get<uint64_t>() <= 65535)
    out.http_port = static_cast<uint16_t>(http->get<uint64_t>());
  return true;
}

/// Election nodes among `names`, lowest sequence number first (ZooKeeper appends a 10-digit counter).
std::vector<std::string> election_nodes(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (auto& n : names)
    if (n.rfind(node_prefix, 0) == 0 && n.size() > std::char_traits<char>::length(node_prefix))
      out.push_back(n);
  auto seq = [](const std::string& n) {
    auto digits = n.substr(std::char_traits<char>::length(node_prefix));
    try {
      return std::stoull(digits);
    } catch (...) {
      return ~0ull;
    }
  };
  std::sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    auto sa = seq(a);
    auto sb = seq(b);
    return sa != sb ? sa < sb : a < b;
  });
  return out;
}

/// What the ZooKeeper client threads tell a worker.
struct zk_event {
  enum kind_t { state, watch, wake } kind = wake;
  zk_session_state st = zk_session_state::connecting;
};

/// Queue plus stop flag shared by a worker and the client's callbacks (which hold it weakly).
struct worker_queue {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<zk_event> events;
  bool stopping = false;

  void post(zk_event e) {
    std::lock_guard<std::mutex> guard{mtx};
    events.push_back(e);
    cv.notify_all();
  }

  /// Waits for events, stop, or `deadline`; returns the events (empty on timeout or stop).
  std::deque<zk_event> wait(std::optional<clock_type::time_point> deadline) {
    std::unique_lock<std::mutex> guard{mtx};
    auto ready = [&] { return stopping || !events.empty(); };
    if (deadline)
      cv.wait_until(guard, *deadline, ready);
    else
      cv.wait(guard, ready);
    std::deque<zk_event> out;
    out.swap(events);
    return out;
  }

  bool stopped() {
    std::lock_guard<std::mutex> guard{mtx};
    return stopping;
  }
};

std::shared_ptr<zookeeper_session> open_session(const zookeeper_url& url, const zookeeper_options& opts,
                                                const std::shared_ptr<worker_queue>& q) {
  std::weak_ptr<worker_queue> weak = q;
  auto timeout = std::chrono::duration_cast<milliseconds>(opts.session_timeout);
  return zookeeper_session::open(
    url.servers, timeout,
    [weak](zk_session_state s) {
      if (auto q = weak.lock())
        q->post(zk_event{zk_event::state, s});
    },
    url.credentials);
}

zookeeper_session::watch_callback poster(const std::shared_ptr<worker_queue>& q) {
  std::weak_ptr<worker_queue> weak = q;
  return [weak](const std::string&) {
    if (auto q = weak.lock())
      q->post(zk_event{zk_event::watch});
  };
}

bool is_connection_problem(const zk_result& r) {
  // ZCONNECTIONLOSS (-4), ZOPERATIONTIMEOUT (-7), ZSESSIONEXPIRED (-112), ZINVALIDSTATE (-9), ZCLOSING (-116):
  // wait for the session to recover or end (the state events decide).
  return r.rc == -4 || r.rc == -7 || r.rc == -112 || r.rc == -9 || r.rc == -116;
}

/// Owns the worker thread of a contender or detector; joins it on stop (detaches if stopped from the worker).
class worker_thread {
public:
  ~worker_thread() { stop(); }

  void start(std::shared_ptr<worker_queue> q, std::function<void()> body) {
    std::lock_guard<std::mutex> guard{mtx_};
    q_ = std::move(q);
    thread_ = std::thread(std::move(body));
  }

  void stop() {
    std::thread t;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!q_)
        return;
      {
        std::lock_guard<std::mutex> qguard{q_->mtx};
        q_->stopping = true;
        q_->cv.notify_all();
      }
      t = std::move(thread_);
    }
    if (!t.joinable())
      return;
    if (t.get_id() == std::this_thread::get_id())
      t.detach();  // called from a callback on the worker: it exits once the callback returns
    else
      t.join();
  }

private:
  std::mutex mtx_;
  std::shared_ptr<worker_queue> q_;
  std::thread thread_;
};

// -- contender --------------------------------------------------------------------------------------------------

class zk_contender : public master_contender {
public:
  zk_contender(zookeeper_url url, zookeeper_options opts) : url_(std::move(url)), opts_(opts) {}
  ~zk_contender() override { withdraw(); }

  void contend(master_location self, std::function<void(contender_event, const std::string&)> on_event) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (started_ || withdrawn_)
      return;
    started_ = true;
    self.handle = nullptr;  // never serialized; processes reach the master by host:port
    auto q = std::make_shared<worker_queue>();
    worker_.start(q, [url = url_, opts = opts_, self = std::move(self), on_event = std::move(on_event), q,
                      won = won_] { run(url, opts, self, on_event, q, won); });
  }

  std::string election_node() const override {
    std::lock_guard<std::mutex> guard{won_->mtx};
    return won_->node;
  }

  void withdraw() override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      withdrawn_ = true;
    }
    worker_.stop();
  }

private:
  /// The election node once elected (written by the worker, read by election_node()).
  struct won_node {
    mutable std::mutex mtx;
    std::string node;
  };

  static void run(const zookeeper_url& url, const zookeeper_options& opts, const master_location& self,
                  const std::function<void(contender_event, const std::string&)>& on_event,
                  const std::shared_ptr<worker_queue>& q, const std::shared_ptr<won_node>& won);

  zookeeper_url url_;
  zookeeper_options opts_;
  std::mutex mtx_;
  bool started_ = false;
  bool withdrawn_ = false;
  std::shared_ptr<won_node> won_ = std::make_shared<won_node>();
  worker_thread worker_;
};

void zk_contender::run(const zookeeper_url& url, const zookeeper_options& opts, const master_location& self,
                       const std::function<void(contender_event, const std::string&)>& on_event,
                       const std::shared_ptr<worker_queue>& q, const std::shared_ptr<won_node>& won) {
  auto session = open_session(url, opts, q);
  auto fallback_timeout = std::chrono::duration_cast<milliseconds>(opts.session_timeout);
  std::string node;            // our znode's full path once created
  bool create_uncertain = false;  // a create failed with connection loss: the node may exist anyway
  bool need_check = true;
  bool elected = false;
  bool mesos_record = false;   // Mesos' json.info_ record of this leadership is written
  bool ever_connected = false;
  std::optional<clock_type::time_point> disconnected_since;
  std::optional<clock_type::time_point> retry_at;
  std::string lost_why;

  auto report = [&](contender_event e, const std::string& why) {
    if (q->stopped())
      return;
    LOG_INFO("election", "contender " << self.id << ": " << to_string(e) << " (" << why << ")");
    if (on_event)
      on_event(e, why);
  };

  // One pass of the recipe; returns false to retry later (connection trouble), sets lost_why when it is over.
  auto check = [&]() -> bool {
    if (node.empty()) {
      auto r = session->ensure_path(url.path);
      if (!r.ok()) {
        LOG_WARN("election", "cannot create " << url.path << ": " << r.error());
        return false;
      }
      if (create_uncertain) {
        std::vector<std::string> names;
        r = session->children(url.path, names);
        if (!r.ok())
          return false;
        for (auto& n : election_nodes(names)) {
          std::string data;
          master_location loc;
          if (session->get(url.path + "/" + n, data).ok() && location_from_json(data, loc) && loc.id == self.id)
            node = url.path + "/" + n;
        }
        create_uncertain = false;
      }
      if (node.empty()) {
        r = session->create(url.path + "/" + node_prefix, location_to_json(self), true, true, &node);
        if (!r.ok()) {
          node.clear();
          create_uncertain = is_connection_problem(r);
          LOG_WARN("election", "cannot create the election node under " << url.path << ": " << r.error());
          return false;
        }
      }
      LOG_DEBUG("election", "contender " << self.id << " entered as " << node);
    }
    auto mine = node.substr(node.rfind('/') + 1);
    for (;;) {
      std::vector<std::string> names;
      auto r = session->children(url.path, names);
      if (!r.ok())
        return false;
      auto nodes = election_nodes(names);
      auto i = std::find(nodes.begin(), nodes.end(), mine);
      if (i == nodes.end()) {
        lost_why = "the election node " + node + " vanished";
        return true;
      }
      if (i == nodes.begin()) {
        // Leading: watch our own node, whose deletion (by anyone) ends the leadership.
        bool exists = false;
        r = session->exists(node, exists, poster(q));
        if (!r.ok())
          return false;
        if (!exists) {
          lost_why = "the election node " + node + " vanished";
          return true;
        }
        // Only the leader writes Mesos' record, on this session: it goes when the leadership does. A failed
        // write is tried again at the next check, as a failed create of our own node is.
        if (!mesos_record && self.http_port != 0) {
          std::string mesos_node;
          auto m = session->create(url.path + "/" + mesos_node_prefix, mesos_master_info_json(self), true, true,
                                   &mesos_node);
          if (!m.ok()) {
            LOG_WARN("election", "cannot write Mesos' leader record under " << url.path << ": " << m.error());
            if (is_connection_problem(m))
              return false;
          } else {
            mesos_record = true;
          }
        }
        if (!elected) {
          elected = true;
          {
            std::lock_guard<std::mutex> guard{won->mtx};
            won->node = node;
          }
          report(contender_event::elected, "lowest election node " + mine);
        }
        return true;
      }
      // Watch only the predecessor (no herd effect); if it is already gone, look again.
      auto pred = url.path + "/" + *(i - 1);
      bool exists = false;
      r = session->exists(pred, exists, poster(q));
      if (!r.ok())
        return false;
      if (exists)
        return true;
    }
  };

  while (lost_why.empty()) {
    std::optional<clock_type::time_point> deadline;
    if (disconnected_since) {
      auto t = session->negotiated_timeout();
      deadline = *disconnected_since + (t.count() > 0 ? t : fallback_timeout);
    }
    if (retry_at && (!deadline || *retry_at < *deadline))
      deadline = retry_at;
    bool check_now = need_check && !retry_at && session->state() == zk_session_state::connected;
    auto events = check_now ? std::deque<zk_event>{} : q->wait(deadline);
    if (q->stopped())
      break;
    for (auto& e : events) {
      if (e.kind == zk_event::watch) {
        need_check = true;
      } else if (e.kind == zk_event::state) {
        switch (e.st) {
          case zk_session_state::connected:
            ever_connected = true;
            disconnected_since.reset();
            need_check = true;  // watches survive a reconnect, but a look costs little and covers missed events
            break;
          case zk_session_state::connecting:
            if (ever_connected && !disconnected_since)
              disconnected_since = clock_type::now();
            break;
          case zk_session_state::expired:
            lost_why = "ZooKeeper session expired";
            break;
          case zk_session_state::auth_failed:
            lost_why = "ZooKeeper authentication failed";
            break;
          case zk_session_state::closed:
            lost_why = "ZooKeeper session closed";
            break;
        }
      }
    }
    if (!lost_why.empty())
      break;
    auto now = clock_type::now();
    if (disconnected_since) {
      auto t = session->negotiated_timeout();
      if (t.count() == 0)
        t = fallback_timeout;
      if (now - *disconnected_since >= t) {
        lost_why = "disconnected from ZooKeeper for longer than the session timeout ("
                   + std::to_string(t.count()) + " ms)";
        break;
      }
    }
    if (retry_at && now >= *retry_at)
      retry_at.reset();
    if (need_check && !retry_at && session->state() == zk_session_state::connected) {
      need_check = false;
      if (!check()) {
        need_check = true;
        retry_at = clock_type::now() + retry_delay;
      }
    }
  }
  if (!lost_why.empty())
    report(contender_event::lost, lost_why);
  // Closing deletes our ephemeral node at once: the next contender takes over without waiting for a timeout.
  session->close();
}

// -- detector ---------------------------------------------------------------------------------------------------

class zk_detector : public master_detector {
public:
  zk_detector(zookeeper_url url, zookeeper_options opts) : url_(std::move(url)), opts_(opts) {
    q_ = std::make_shared<worker_queue>();
    worker_.start(q_, [this] { run(); });
  }
  ~zk_detector() override { close(); }

  void watch(std::function<void(const master_location&)> on_change) override {
    if (!on_change)
      return;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_)
        return;
      added_.push_back(std::move(on_change));
    }
    q_->post(zk_event{zk_event::wake});
  }

  void close() override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      closed_ = true;
    }
    worker_.stop();
  }

  std::string describe() const override { return "zk://" + url_.servers + url_.path; }

private:
  void run();

  zookeeper_url url_;
  zookeeper_options opts_;
  std::shared_ptr<worker_queue> q_;
  std::mutex mtx_;
  bool closed_ = false;
  std::vector<std::function<void(const master_location&)>> added_;  // watchers not yet told anything
  worker_thread worker_;  // last member: stopped (joined) before the others go away
};

void zk_detector::run() {
  // Everything below runs on the worker; `this` outlives it (close() joins before members are destroyed).
  auto q = q_;
  std::vector<std::function<void(const master_location&)>> watchers;
  master_location leader;
  bool known = false;  // one look completed (or we gave up waiting for the first connection)
  auto first_deadline = clock_type::now() + std::chrono::seconds(1);
  auto session = open_session(url_, opts_, q);
  bool need_check = true;
  std::optional<clock_type::time_point> retry_at;
  std::optional<clock_type::time_point> reopen_at;

  auto tell = [&](const std::function<void(const master_location&)>& w) {
    if (!q->stopped())
      w(leader);
  };
  auto set_leader = [&](const master_location& now) {
    bool first = !known;
    known = true;
    if (!first && now.id == leader.id)
      return;
    bool changed = now.id != leader.id;
    leader = now;
    if (changed)
      LOG_INFO("election", "detector " << describe() << ": leader "
                                       << (leader.empty() ? std::string{"none"} : leader.endpoint() + " (" + leader.id + ")"));
    if (first || changed)
      for (auto& w : watchers)
        tell(w);
  };

  // Returns false to retry later.
  auto check = [&]() -> bool {
    for (;;) {
      std::vector<std::string> names;
      auto r = session->children(url_.path, names, poster(q));
      if (r.no_node()) {
        // No election yet: watch for the path to appear.
        bool exists = false;
        r = session->exists(url_.path, exists, poster(q));
        if (!r.ok())
          return false;
        if (exists)
          continue;
        set_leader(master_location{});
        return true;
      }
      if (!r.ok())
        return false;
      auto nodes = election_nodes(names);
      if (nodes.empty()) {
        set_leader(master_location{});
        return true;
      }
      std::string data;
      r = session->get(url_.path + "/" + nodes.front(), data);
      if (r.no_node())
        continue;  // the leader just left; the child watch fires too, but look now
      if (!r.ok())
        return false;
      master_location loc;
      if (!location_from_json(data, loc)) {
        LOG_WARN("election", "detector " << describe() << ": unreadable leader data in " << nodes.front());
        loc = master_location{};
      }
      set_leader(loc);
      return true;
    }
  };

  while (!q->stopped()) {
    std::optional<clock_type::time_point> deadline;
    auto consider = [&](std::optional<clock_type::time_point> t) {
      if (t && (!deadline || *t < *deadline))
        deadline = t;
    };
    consider(retry_at);
    consider(reopen_at);
    if (!known)
      consider(first_deadline);
    bool check_now = session && need_check && !retry_at && session->state() == zk_session_state::connected;
    auto events = check_now ? std::deque<zk_event>{} : q->wait(deadline);
    if (q->stopped())
      break;
    // New watchers: they hear the current leader once it is known, then every change.
    {
      std::vector<std::function<void(const master_location&)>> added;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        added.swap(added_);
      }
      for (auto& w : added) {
        watchers.push_back(w);
        if (known)
          tell(w);
      }
    }
    for (auto& e : events) {
      if (e.kind == zk_event::watch) {
        need_check = true;
      } else if (e.kind == zk_event::state) {
        if (e.st == zk_session_state::connected) {
          need_check = true;
        } else if (e.st == zk_session_state::expired || e.st == zk_session_state::auth_failed) {
          // Detectors never give up: a new session and new watches (the leader stays as last seen meanwhile).
          LOG_INFO("election", "detector " << describe() << ": ZooKeeper session " << to_string(e.st)
                                           << "; opening a new one");
          if (session)
            session->close();
          session.reset();
          reopen_at = clock_type::now() + (e.st == zk_session_state::expired ? milliseconds{0} : retry_delay * 2);
        }
      }
    }
    auto now = clock_type::now();
    if (!session && reopen_at && now >= *reopen_at) {
      reopen_at.reset();
      session = open_session(url_, opts_, q);
      need_check = true;
    }
    if (!known && now >= first_deadline && (!session || session->state() != zk_session_state::connected)) {
      // Not connected yet: tell the watchers that no leader is known (the contract: a report soon after watch()).
      set_leader(master_location{});
    }
    if (retry_at && now >= *retry_at)
      retry_at.reset();
    if (session && need_check && !retry_at && session->state() == zk_session_state::connected) {
      need_check = false;
      if (!check()) {
        need_check = true;
        retry_at = clock_type::now() + retry_delay;
      }
    }
  }
  if (session)
    session->close();
}

} // namespace

std::shared_ptr<master_contender> make_zookeeper_contender(const zookeeper_url& url, const zookeeper_options& zk) {
  return std::make_shared<zk_contender>(url, zk);
}

std::shared_ptr<master_detector> make_zookeeper_detector(const zookeeper_url& url, const zookeeper_options& zk) {
  return std::make_shared<zk_detector>(url, zk);
}

} // namespace mesoscaf
