// The master's endpoints. Pages of the state are fetched one message at a time (messages/state_view.hpp), so the
// master serves offers and updates between them; concurrent /state requests share one fetch.
#include "actors/http/daemon_http.hpp"

#include "actors/http/completed_history_cache.hpp"
#include "actors/http/endpoint_support.hpp"
#include "actors/http/webui/webui_assets.hpp"
#include "config/support/logging.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace mesoscaf::http {

namespace {

constexpr const char* component = "http";

/// Concurrent readers of the state join the fetch under way instead of starting their own: four dashboards
/// polling /state cost the master one pass, not four.
class shared_fetch {
public:
  std::shared_ptr<const master_state> get(caf::actor_system& sys, const master_actor& master,
                                          std::chrono::milliseconds timeout, std::string& error) {
    std::unique_lock<std::mutex> guard{mtx_};
    if (running_) {
      auto gen = generation_;
      cv_.wait(guard, [&] { return generation_ != gen; });
      error = last_error_;
      return last_;
    }
    running_ = true;
    guard.unlock();
    std::string err;
    auto fetched = fetch_master_state(sys, master, timeout, err, &history_);
    guard.lock();
    last_ = fetched ? std::make_shared<const master_state>(std::move(*fetched)) : nullptr;
    last_error_ = err;
    running_ = false;
    ++generation_;
    cv_.notify_all();
    error = err;
    return last_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool running_ = false;
  uint64_t generation_ = 0;
  std::shared_ptr<const master_state> last_;
  std::string last_error_;
  completed_history_cache history_;   // used by the one fetch under way
};

response unavailable(const std::string& why) {
  return response::error(503, "the master did not answer: " + why);
}

std::optional<std::size_t> count_param(const request& req, const std::string& key, std::size_t fallback,
                                       std::string& err) {
  if (!req.has_param(key))
    return fallback;
  auto text = req.param(key);
  if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) {
    err = key + " must be a non-negative integer";
    return std::nullopt;
  }
  return static_cast<std::size_t>(std::stoull(text));
}

} // namespace

std::optional<master_state> fetch_master_state(caf::actor_system& sys, const master_actor& master,
                                               std::chrono::milliseconds timeout, std::string& error,
                                               completed_history_cache* cache) {
  master_state out;
  out.fetch_started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  state_cursor at;
  caf::scoped_actor self{sys};
  double waited = 0;
  int pages = 0;
  uint64_t history_first = 0;   // where the master's completed history starts (told by the last agents page)
  bool restarted = false;       // the cache did not continue: the history asked for again, whole
  for (bool first = true;; first = false) {
    master_state_view page;
    bool ok = false;
    ++pages;
    auto t0 = std::chrono::steady_clock::now();
    self->request(master, timeout, atom::state_page_v, at)
      .receive(
        [&](master_state_view& p) {
          waited += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
          page = std::move(p);
          ok = true;
        },
        [&](const caf::error& e) { error = sys.render(e); });
    if (!ok)
      return std::nullopt;
    auto next = page.next;
    bool done = page.done;
    if (cache != nullptr && at.phase == state_cursor::completed) {
      // Kept in the cache, which goes into the answer whole at the end.
      if (!cache->add(next.seq - page.completed.size(), page.completed)) {
        if (restarted) {
          error = "the master's completed history changed during the fetch twice";
          return std::nullopt;
        }
        restarted = true;
        cache->clear();
        at = state_cursor{state_cursor::completed, {}, history_first};
        continue;
      }
      page.completed.clear();
    }
    if (first)
      out.first = std::move(page);
    else
      out.pages.push_back(std::move(page));
    if (done) {
      if (cache != nullptr) {
        master_state_view history;
        history.completed = cache->entries();
        out.pages.push_back(std::move(history));
      }
      LOG_DEBUG(component, "state: " << pages << " pages, " << waited << " ms waiting for them");
      return out;
    }
    bool entering_history = next.phase == state_cursor::completed && at.phase != state_cursor::completed;
    at = next;
    if (cache != nullptr && entering_history) {
      history_first = at.seq;
      at.seq = cache->resume_from(at.seq);
    }
  }
}

std::optional<response> forbidden(const endpoint_options& opts, const request& req, acl_action action,
                                  const std::string& object) {
  if (!opts.acls || opts.acls->authorized(action, req.principal, object))
    return std::nullopt;
  auto who = req.principal ? "principal '" + *req.principal + "'" : std::string{"an anonymous request"};
  LOG_WARN(component, "HTTP " << req.method << " " << req.path << " from " << req.peer << ": " << who << " may not "
                              << acl_action_name(action) << " (" << acl_object_name(action) << " '" << object
                              << "', --acls)");
  return response::error(403, "not authorized: " + who + " may not " + acl_action_name(action) + " ("
                                + acl_object_name(action) + " '" + object + "')");
}

void add_master_routes(server& srv, caf::actor_system& sys, master_actor master, endpoint_options opts) {
  // The HTTP port is known once the server listens, after the routes are set: read at each request.
  auto srvp = &srv;
  auto me = std::make_shared<const endpoint_options>(std::move(opts));
  auto identity = [me, srvp] {
    auto id = me->identity;
    id.http_port = srvp->port();
    return id;
  };
  auto fetch = std::make_shared<shared_fetch>();
  auto sysp = &sys;
  // Every read endpoint is a view of the whole state.
  // view_state (--acls): each of `objects` must be visible to the request's principal.
  auto may_view = [me](const request& req, std::initializer_list<const char*> objects) -> std::optional<response> {
    for (auto o : objects)
      if (auto no = forbidden(*me, req, acl_action::view_state, o))
        return no;
    return std::nullopt;
  };
  auto state_route = [=](std::vector<const char*> objects,
                         std::function<response(const master_state&, const request&)> render) {
    return [=](const request& req) {
      if (req.method != "GET" && req.method != "HEAD")
        return response::error(405, req.method + " is not allowed on " + req.path);
      for (auto o : objects)
        if (auto no = forbidden(*me, req, acl_action::view_state, o))
          return *no;
      std::string err;
      auto t0 = std::chrono::steady_clock::now();
      auto s = fetch->get(*sysp, master, me->timeout, err);
      if (!s)
        return unavailable(err);
      auto t1 = std::chrono::steady_clock::now();
      auto res = render(*s, req);
      auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
      LOG_DEBUG(component, req.path << ": state of " << s->agent_count() << " agents and " << s->task_count()
                                    << " tasks fetched in " << ms(t1 - t0)
                                    << " ms, written in " << ms(std::chrono::steady_clock::now() - t1) << " ms ("
                                    << res.body.size() << " bytes)");
      return res;
    };
  };
  auto get_only = [](handler h) {
    return [h](const request& req) {
      if (req.method != "GET" && req.method != "HEAD")
        return response::error(405, req.method + " is not allowed on " + req.path);
      return h(req);
    };
  };
  srv.route("*", "/health", get_only([](const request&) { return response::text(""); }));
  srv.route("*", "/version", get_only([](const request&) { return response::json(version_json()); }));
  srv.route("*", "/flags", get_only([=](const request& req) {
              if (auto no = may_view(req, {"flags"}))
                return *no;
              return response::json(flags_json(identity()));
            }));
  srv.route("*", "/state", state_route({"frameworks", "tasks", "agents"}, [identity](const master_state& s, const request&) {
              return response::json(master_state_json(s, identity()));
            }));
  srv.route("*", "/state-summary", state_route({"frameworks", "agents"}, [identity](const master_state& s, const request&) {
              return response::json(master_state_summary_json(s, identity()));
            }));
  srv.route("*", "/frameworks", state_route({"frameworks", "tasks"}, [](const master_state& s, const request&) {
              return response::json(master_frameworks_json(s));
            }));
  auto slaves = state_route({"agents"}, [](const master_state& s, const request&) {
    return response::json(master_slaves_json(s));
  });
  srv.route("*", "/slaves", slaves);
  srv.route("*", "/agents", slaves);
  srv.route("*", "/tasks", state_route({"tasks"}, [](const master_state& s, const request& req) {
              std::string err;
              auto limit = count_param(req, "limit", 100, err);
              auto offset = count_param(req, "offset", 0, err);
              auto order = req.param("order", "des");
              if (order != "asc" && order != "des")
                err = "order must be asc or des";
              if (!err.empty() || !limit || !offset)
                return response::error(400, err);
              return response::json(master_tasks_json(s, *limit, *offset, order == "asc"));
            }));
  auto roles_view = [=](std::function<response(const std::vector<role_summary>&)> render) {
    // The roles come with the header page alone: no need for the whole state.
    master_state_view page;
    auto err = ask(*sysp, master, me->timeout, page, atom::state_page_v, state_cursor{});
    return err.empty() ? render(page.roles) : unavailable(err);
  };
  srv.route("*", "/roles", get_only([=](const request& req) {
              if (auto no = may_view(req, {"roles"}))
                return *no;
              return roles_view([](auto& roles) { return response::json(roles_json(roles)); });
            }));
  srv.route("*", "/weights", [=](const request& req) {
    if (req.method == "GET") {
      if (auto no = may_view(req, {"roles"}))
        return *no;
      return roles_view([](auto& roles) { return response::json(weights_json(roles)); });
    }
    if (req.method != "PUT" && req.method != "POST")
      return response::error(405, req.method + " is not allowed on /weights");
    std::vector<std::pair<std::string, double>> weights;
    if (auto err = parse_weights(req.body, weights); !err.empty())
      return response::error(400, err);
    // All or nothing: every role is authorized before any weight changes.
    for (auto& [role, w] : weights)
      if (auto no = forbidden(*me, req, acl_action::update_weights, role))
        return *no;
    for (auto& [role, w] : weights) {
      bool ok = false;
      if (auto err = ask(*sysp, master, me->timeout, ok, atom::set_weight_v, role, w); !err.empty())
        return response::error(400, "weight of role " + role + ": " + err);
      LOG_INFO(component, "weight of role " << role << " set to " << w << " by " << req.peer);
    }
    return response::json("{}");
  });
  auto set_quota = [=](const std::string& role, const quota_info& q, const request& req) {
    if (auto no = forbidden(*me, req, acl_action::update_quotas, role))
      return *no;
    bool ok = false;
    if (auto err = ask(*sysp, master, me->timeout, ok, atom::set_quota_v, role, q); !err.empty())
      return response::error(400, "quota of role " + role + ": " + err);
    LOG_INFO(component, "quota of role " << role << (q.guarantee.empty() && q.limit.empty() ? " removed" : " set")
                                         << " by " << req.peer);
    return response::json("{}");
  };
  srv.route("*", "/quota", [=](const request& req) {
    if (req.method == "GET") {
      if (auto no = may_view(req, {"roles"}))
        return *no;
      return roles_view([](auto& roles) { return response::json(quota_json(roles)); });
    }
    if (req.method != "POST" && req.method != "PUT")
      return response::error(405, req.method + " is not allowed on /quota (DELETE /quota/ROLE removes one)");
    std::string role;
    quota_info q;
    if (auto err = parse_quota(req.body, role, q); !err.empty())
      return response::error(400, err);
    return set_quota(role, q, req);
  });
  srv.route_prefix("*", "/quota/", [=](const request& req) {
    if (req.method != "DELETE")
      return response::error(405, req.method + " is not allowed on " + req.path);
    auto role = req.path.substr(std::string{"/quota/"}.size());
    if (!valid_role_name(role) || role == "*")
      return response::error(400, "invalid role '" + role + "'");
    return set_quota(role, quota_info{}, req);
  });
  srv.route("*", "/teardown", [=](const request& req) {
    if (req.method != "POST")
      return response::error(405, req.method + " is not allowed on /teardown");
    auto form = parse_query(req.body);
    auto id = form.count("frameworkId") ? form["frameworkId"] : req.param("frameworkId");
    if (id.empty())
      return response::error(400, "frameworkId is missing (form body frameworkId=ID)");
    // teardown_frameworks (--acls) names the framework's principal: look it up in the state.
    if (me->acls && me->acls->configured()) {
      master_state_view page;   // the header page lists the frameworks
      if (auto err = ask(*sysp, master, me->timeout, page, atom::state_page_v, state_cursor{}); !err.empty())
        return unavailable(err);
      auto fw = std::find_if(page.frameworks.begin(), page.frameworks.end(),
                             [&](const framework_view& f) { return f.info.id.value == id; });
      if (fw == page.frameworks.end())
        return response::error(404, "no such framework: " + id);
      if (auto no = forbidden(*me, req, acl_action::teardown_frameworks, fw->info.principal))
        return *no;
    }
    bool known = false;
    if (auto err = ask(*sysp, master, me->timeout, known, atom::teardown_v, framework_id{id},
                       "operator (HTTP from " + req.peer
                         + (req.principal ? ", principal " + *req.principal : std::string{}) + ")");
        !err.empty())
      return response::error(400, err);
    if (!known)
      return response::error(404, "no such framework: " + id);
    return response::json("{}");
  });
  srv.route("*", "/master/redirect", get_only([=](const request&) {
              master_state_view page;
              if (auto err = ask(*sysp, master, me->timeout, page, atom::state_page_v, state_cursor{}); !err.empty())
                return unavailable(err);
              auto& h = page.header;
              std::string location;
              if (h.leading)
                location = "//" + me->identity.address + ":" + std::to_string(srvp->port());
              else if (!h.leader.empty() && h.leader.http_port != 0)
                location = "//" + h.leader.host + ":" + std::to_string(h.leader.http_port);
              if (location.empty())
                return response::error(503, "no leading master is known");
              auto res = response::text("", 307);
              res.headers.emplace_back("Location", location);
              return res;
            }));
  auto metrics = [=](bool prometheus) {
    return get_only([=](const request&) {
      std::vector<metric_sample> samples;
      if (auto err = ask(*sysp, master, me->timeout, samples, atom::metrics_v); !err.empty())
        return unavailable(err);
      return metrics_response(samples, prometheus);
    });
  };
  srv.route("*", "/logging/toggle", toggle_logging);
  srv.route("*", "/metrics/snapshot", metrics(false));
  srv.route("*", "/metrics", metrics(true));
  // The web UI, compiled into the binary (actors/http/webui/).
  auto webui = get_only([](const request& req) {
    auto asset = find_webui_asset(req.path);
    if (!asset)
      return response::error(404, "no web UI file " + req.path);
    response res;
    res.content_type = std::string{asset->content_type};
    res.body = std::string{asset->body};
    return res;
  });
  add_v1_scheduler_routes(srv, sys, master, me, identity);
  add_v1_operator_master_routes(srv, sys, master, me, identity, [=](std::string& err) {
    return fetch->get(*sysp, master, me->timeout, err);
  });
  srv.route("*", "/", webui);
  srv.route("*", "/index.html", webui);
  srv.route_prefix("*", "/static/", webui);
}

} // namespace mesoscaf::http
