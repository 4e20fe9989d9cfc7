// The master's answers to HTTP introspection: pages of its state and its metrics. Both copy plain data and
// return; the HTTP thread that asked turns them into JSON (actors/http/master_http.cpp).
#include "actors/master/master.hpp"
#include "actors/master/state_pages.hpp"
#include "config/support/logging.hpp"

#include <caf/all.hpp>

namespace mesoscaf {

namespace {

void fill_master_fields(const master_state& st, master_header& h) {
  h.start_time = st.start_time;
  h.elected_time = st.elected_time;
  h.elected = st.elected;
  h.leading = st.leading;
  h.leader = st.leader;
  h.leader.handle = nullptr;  // an in-process handle means nothing to an HTTP client
}

} // namespace

caf::result<master_state_view> state_page(master_pointer self, const state_cursor& at) {
  master_state_view page;
  auto t0 = std::chrono::steady_clock::now();
  fill_state_page(self->state.reg, at, default_state_page_budget, page);
  auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (took > 2) {
    std::size_t offers = page.offers.size(), unacked = 0;
    for (auto& f : page.frameworks)
      unacked += f.unacknowledged.size();
    LOG_DEBUG("master", "state page (phase " << int{at.phase} << ") took " << took << " ms: " << page.agents.size()
                                             << " agents, " << page.tasks.size() << " tasks, " << page.completed.size()
                                             << " completed, " << offers << " offers, " << unacked << " unacknowledged");
  }
  if (at.phase != state_cursor::header)
    return page;
  fill_master_fields(self->state, page.header);
  // The roles (weights, quota, allocation) are the allocator's: asked for, and the page goes out without them
  // if it does not answer in time.
  auto rp = self->make_response_promise<master_state_view>();
  self->request(self->state.allocator, std::chrono::seconds(2), atom::roles_v)
    .then(
      [rp, page](std::vector<role_summary>& roles) mutable {
        page.roles = std::move(roles);
        rp.deliver(std::move(page));
      },
      [rp, page](const caf::error&) mutable { rp.deliver(std::move(page)); });
  return rp;
}

caf::result<std::vector<metric_sample>> metrics_of(master_pointer self) {
  auto rp = self->make_response_promise<std::vector<metric_sample>>();
  auto deliver = [self, rp](std::vector<role_summary> roles) mutable {
    auto& st = self->state;
    master_gauge_inputs in;
    in.elected = st.elected;
    in.uptime_secs = now_seconds() - st.start_time;
    in.roles = std::move(roles);
    rp.deliver(master_metrics(st.reg, st.counters, in));
  };
  self->request(self->state.allocator, std::chrono::seconds(2), atom::roles_v)
    .then([deliver](std::vector<role_summary>& roles) mutable { deliver(std::move(roles)); },
          [deliver](const caf::error&) mutable { deliver({}); });
  return rp;
}

} // namespace mesoscaf
