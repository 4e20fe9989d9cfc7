// bench=allocator: the pure allocator (allocator/hierarchical_allocator.hpp) alone, in process, no actors, on the
// shapes of Apache Mesos' own allocator micro-benchmarks, so the cycle times compare with the figures quoted in
// issue 3 (Mesos 1.8 for decline, 2019 for quota; mesos_ms on each line; speedup = mesos_ms / cycle_ms).
//
// shape=decline (Mesos "DeclineOffers"): agents cpus:24;mem:4096;disk:4096;ports:[31000-32000], each with
//   cpus:16;mem:2014;disk:1024 and 16 port ranges already allocated to a framework (agents/frameworks agents
//   per framework, as Mesos' round robin gives);
//   every offer is declined with the longest filter we accept, then the next cycle runs (the agents' first
//   offers, made by Mesos when each agent is added, come from one untimed cycle here). Mesos times each cycle
//   from "advance the clock" to "allocation done", after the declines have been processed, and reports that
//   figure per cycle (it is flat in Mesos because every cycle walks every (agent, framework) pair). We do the
//   same: the declines (recover) of the previous cycle are outside the timer, `allocate(now)` is inside, and
//   cycle_ms is the mean over the cycles run (max_ms the slowest one). Mesos runs 2 x frameworks cycles; the
//   later ones are the hard ones for an allocator that skips filtered frameworks (the filters pile up: after
//   `frameworks` cycles every framework has declined every agent), so the default runs the Mesos sequence as
//   far as a budget allows and says how far it got (cycles=N of=M stopped=...; see cycles_for).
// shape=quota (Mesos "LargeAndSmallQuota", 3,000 agents cpus:2;mem:2048;disk:2048; 2,500 roles with quota
//   cpus:1;mem:1024;disk:1024 and 500 with cpus:4;mem:4096;disk:4096, guarantee = limit as Mesos' quota was
//   then; one framework per role): cycle=first is the one cycle that hands out every guarantee, cycle=second
//   the cycle right after it, which must allocate nothing. Each is one timed allocate(now), as in Mesos. The
//   first cycle's outcome is checked (roles_at_quota = roles holding exactly their quota's cpus), so a fast but
//   wrong allocator does not pass as fast.
//
// Memory: heap bytes held by the allocator (glibc mallinfo2 in-use delta) per agent and per framework when they
// are added, and per agent after the decline cycles (allocations and filters included).
//
// Usage: bench_allocator [--shape=decline|quota|all] [--max-agents=N] [--cycles=N|all] [--per-cycle]
#include "allocator/hierarchical_allocator.hpp"
#include "messages/quota.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace mesoscaf;
using clk = std::chrono::steady_clock;

namespace {

using time_point = hierarchical_allocator::time_point;

struct options {
  std::string shape = "all";
  size_t max_agents = 20000;
  // 0 = default budget (see cycles_for), SIZE_MAX = every cycle of the Mesos sequence (2 x frameworks).
  size_t cycles = 0;
  bool per_cycle = false; // also print every decline cycle to stderr
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_allocator: %s\n", what.c_str());
  std::exit(1);
}

void must(const std::string& err, const char* what) {
  if (!err.empty())
    die(std::string{what} + ": " + err);
}

resource_set parse(const std::string& text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  if (!r)
    die("bad resources '" + text + "': " + err);
  return *r;
}

size_t heap_in_use() {
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

double ms_since(clk::time_point start) {
  return std::chrono::duration<double, std::milli>(clk::now() - start).count();
}

void print_line(const char* shape, const std::string& params, double cycle_ms, double mesos_ms,
                const std::string& extra) {
  std::printf("bench=allocator shape=%s %s cycle_ms=%.2f mesos_ms=%.0f speedup=%.1f%s\n", shape, params.c_str(),
              cycle_ms, mesos_ms, cycle_ms > 0 ? mesos_ms / cycle_ms : 0.0, extra.c_str());
  std::fflush(stdout);
}

// -- decline ----------------------------------------------------------------------------------------------------

// The 16 port ranges Mesos' benchmark allocates: single ports 31000, 31002, ... and the last one running to the
// end of the agent's range, leaving 15 single free ports in between.
std::string allocated_ports() {
  std::string out = "[";
  for (int i = 0; i < 16; ++i) {
    uint64_t begin = 31000 + 2 * i;
    uint64_t end = i == 15 ? 32000 : begin;
    if (i > 0)
      out += ",";
    out += std::to_string(begin) + "-" + std::to_string(end);
  }
  return out + "]";
}

// Mesos runs 2 x frameworks cycles. The whole sequence costs agents x frameworks offers and declines to set up
// (40 million at 20,000 x 2,000, and as many live filters), so by default a shape runs the first
// 2,000,000 / agents cycles of it (all 200 at 1,000 x 100 and all 1,000 at 5,000 x 500, about half a minute; 200
// of 2,000 and 100 of 4,000 for the larger ones: a fixed count, so runs compare), with safety stops at 90 s of wall
// time or 2 GB of heap. The line says how far it got (cycles=N of=M stopped=...). --cycles=all runs the whole sequence without stops,
// --cycles=N the first N cycles.
size_t cycles_for(const options& opts, size_t agents, size_t frameworks) {
  size_t full = 2 * frameworks;
  if (opts.cycles == SIZE_MAX)
    return full;
  if (opts.cycles > 0)
    return std::min(opts.cycles, full);
  if (agents * full <= 5'000'000)
    return full; // up to 5,000 x 500 the whole sequence takes seconds
  return std::min(full, std::max<size_t>(10, 2'000'000 / std::max<size_t>(agents, 1)));
}

struct decline_result {
  double mean_ms = 0;
  double max_ms = 0;
  double first_ms = 0;
  double last_ms = 0;
  size_t cycles = 0;
  std::string stopped = "none"; // why the sequence ended early: time, memory (safety stops)
  size_t offers = 0;
  size_t bytes_per_agent = 0;
  size_t bytes_per_framework = 0;
  size_t bytes_per_agent_after = 0;
  size_t estimate_per_agent = 0; // the allocator's own memory_bytes() estimate after the cycles, per agent
};

decline_result run_decline(const options& opts, size_t agent_count, size_t fw_count) {
  decline_result out;
  const resource_set agent_total = parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]");
  const resource_set used = parse("cpus:16;mem:2014;disk:1024;ports:" + allocated_ports());
  const double long_filter = 365.0 * 24 * 3600; // the longest refuse_seconds the allocator accepts

  std::vector<framework_id> fws;
  std::vector<agent_id> agents;
  for (size_t i = 0; i < fw_count; ++i)
    fws.emplace_back("framework-" + std::to_string(i));
  for (size_t i = 0; i < agent_count; ++i)
    agents.emplace_back("agent-" + std::to_string(i));
  framework_info info;
  info.roles = {"*"};

  time_point now{std::chrono::hours(1)};
  size_t heap0 = heap_in_use();
  auto alloc = std::make_unique<hierarchical_allocator>();
  for (auto& id : fws) {
    info.id = id;
    must(alloc->add_framework(id, info), "add_framework");
  }
  size_t heap1 = heap_in_use();
  for (auto& id : agents)
    must(alloc->add_agent(id, agent_total), "add_agent");
  size_t heap2 = heap_in_use();
  out.bytes_per_framework = (heap1 - heap0) / std::max<size_t>(fw_count, 1);
  out.bytes_per_agent = (heap2 - heap1) / std::max<size_t>(agent_count, 1);

  // Give every agent's `used` part to one framework, as Mesos' setup does with addSlave(used): one cycle hands
  // each agent whole to the framework with the lowest share (DRF spreads them evenly over the frameworks),
  // which returns the rest at once without a filter. Frameworks keep `used` for the whole benchmark.
  auto setup = alloc->allocate(now);
  if (setup.size() != agent_count)
    die("setup: " + std::to_string(setup.size()) + " allocations for " + std::to_string(agent_count) + " agents");
  for (auto& a : setup) {
    if (!a.resources.contains(used))
      die("setup: agent offered without the used part: " + a.resources.to_string());
    must(alloc->recover(a.framework, a.agent, a.role, a.resources - used, 0, now), "setup recover");
  }
  setup = {};

  // Mesos' addSlave allocates the new agent's free resources at once (event-driven), so its first timed cycle
  // already declines one offer per agent; this untimed cycle plays that part.
  now += std::chrono::seconds(1);
  std::vector<allocation> offers = alloc->allocate(now);
  const bool budget = opts.cycles == 0;
  const auto wall_start = clk::now();
  for (size_t cycle = 0, n = cycles_for(opts, agent_count, fw_count); cycle < n; ++cycle) {
    if (budget && cycle > 0) {
      if (ms_since(wall_start) > 90'000)
        out.stopped = "time";
      else if (heap_in_use() - heap0 > (size_t{2} << 30))
        out.stopped = "memory";
      if (out.stopped != "none")
        break;
    }
    // Decline everything offered in the previous cycle with a long filter (not timed, as in Mesos).
    for (auto& o : offers)
      must(alloc->recover(o.framework, o.agent, o.role, o.resources, long_filter, now), "decline");
    now += std::chrono::seconds(1); // one allocation interval
    auto start = clk::now();
    offers = alloc->allocate(now);
    double ms = ms_since(start);
    out.offers += offers.size();
    if (opts.per_cycle)
      std::fprintf(stderr, "decline agents=%zu cycle=%zu ms=%.3f offers=%zu\n", agent_count, cycle, ms,
                   offers.size());
    if (cycle == 0)
      out.first_ms = ms;
    out.last_ms = ms;
    out.max_ms = std::max(out.max_ms, ms);
    out.mean_ms += ms;
    ++out.cycles;
  }
  if (out.cycles > 0)
    out.mean_ms /= static_cast<double>(out.cycles);
  offers.clear();
  offers.shrink_to_fit();
  out.estimate_per_agent = alloc->memory_bytes() / std::max<size_t>(agent_count, 1);
  out.bytes_per_agent_after = (heap_in_use() - heap0) / std::max<size_t>(agent_count, 1);
  return out;
}

// -- quota ------------------------------------------------------------------------------------------------------

void run_quota(const options& opts) {
  const size_t small_roles = 2500, large_roles = 500, agent_count = 3000;
  if (agent_count > opts.max_agents)
    return;
  const resource_set agent_total = parse("cpus:2;mem:2048;disk:2048");
  quota_info small, large;
  small.guarantee = small.limit = parse("cpus:1;mem:1024;disk:1024");
  large.guarantee = large.limit = parse("cpus:4;mem:4096;disk:4096");

  hierarchical_allocator alloc;
  time_point now{std::chrono::hours(1)};
  // Agents first, then frameworks, then quota: the order of Mesos' setup (nothing can be allocated before the
  // frameworks come, and allocate() only runs when we call it).
  for (size_t i = 0; i < agent_count; ++i)
    must(alloc.add_agent(agent_id{"agent-" + std::to_string(i)}, agent_total), "add_agent");
  std::vector<std::string> roles;
  for (size_t i = 0; i < small_roles; ++i)
    roles.push_back("small-" + std::to_string(i));
  for (size_t i = 0; i < large_roles; ++i)
    roles.push_back("large-" + std::to_string(i));
  for (auto& role : roles) {
    framework_info info;
    info.id = framework_id{"framework-" + role};
    info.roles = {role};
    must(alloc.add_framework(info.id, info), "add_framework");
  }
  for (size_t i = 0; i < roles.size(); ++i)
    must(alloc.set_quota(roles[i], i < small_roles ? small : large), "set_quota");

  std::string params = "agents=" + std::to_string(agent_count) + " roles=" + std::to_string(roles.size())
                       + " frameworks=" + std::to_string(roles.size());
  now += std::chrono::seconds(1);
  auto start = clk::now();
  auto first = alloc.allocate(now);
  double first_ms = ms_since(start);
  // Check the outcome, so a fast but wrong allocator does not pass as fast: every role got its guarantee.
  std::vector<milli> cpus(roles.size(), 0);
  for (auto& a : first) {
    auto pos = std::find(roles.begin(), roles.end(), a.role);
    if (pos == roles.end())
      die("quota: allocation to unexpected role " + a.role);
    cpus[pos - roles.begin()] += a.resources.scalar_milli("cpus");
  }
  size_t satisfied = 0;
  for (size_t i = 0; i < roles.size(); ++i)
    satisfied += cpus[i] == (i < small_roles ? 1000 : 4000);
  print_line("quota", params + " cycle=first", first_ms, 15400,
             " allocations=" + std::to_string(first.size()) + " roles_at_quota=" + std::to_string(satisfied));

  now += std::chrono::seconds(1);
  start = clk::now();
  auto second = alloc.allocate(now);
  double second_ms = ms_since(start);
  print_line("quota", params + " cycle=second", second_ms, 13700,
             " allocations=" + std::to_string(second.size()));
}

options parse_options(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* prefix) -> const char* {
      size_t n = std::strlen(prefix);
      return arg.compare(0, n, prefix) == 0 ? argv[i] + n : nullptr;
    };
    if (auto v = value("--shape=")) {
      opts.shape = v;
      if (opts.shape != "decline" && opts.shape != "quota" && opts.shape != "all")
        die("--shape must be decline, quota or all");
    } else if (auto v = value("--max-agents=")) {
      opts.max_agents = std::strtoull(v, nullptr, 10);
    } else if (auto v = value("--cycles=")) {
      opts.cycles = std::string{v} == "all" ? SIZE_MAX : std::strtoull(v, nullptr, 10);
      if (opts.cycles == 0)
        die("--cycles must be a positive number or 'all'");
    } else if (arg == "--per-cycle") {
      opts.per_cycle = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: bench_allocator [--shape=decline|quota|all] [--max-agents=N] [--cycles=N|all]\n"
                  "                       [--per-cycle]\n"
                  "  --max-agents: skip shapes with more agents\n"
                  "  --cycles: decline cycles per shape (default: all of Mesos' 2 x frameworks cycles up to 5,000 agents,\n"
                  "            the first 2,000,000/agents above, safety stops at 90 s or 2 GB heap; 'all': every\n"
                  "            cycle, no stops; N: first N)\n"
                  "  --per-cycle: print each decline cycle's time to stderr\n");
      std::exit(0);
    } else {
      die("unknown argument " + arg + " (see --help)");
    }
  }
  return opts;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse_options(argc, argv);
  if (opts.shape == "decline" || opts.shape == "all") {
    struct shape {
      size_t agents, frameworks;
      double mesos_ms;
    };
    // Mesos 1.8 DeclineOffers figures per cycle.
    const shape shapes[] = {{1000, 100, 100}, {5000, 500, 400}, {10000, 1000, 1100}, {20000, 2000, 3800}};
    for (auto& s : shapes) {
      if (s.agents > opts.max_agents)
        continue;
      auto r = run_decline(opts, s.agents, s.frameworks);
      std::string params = "agents=" + std::to_string(s.agents) + " frameworks=" + std::to_string(s.frameworks);
      char extra[320];
      std::snprintf(extra, sizeof extra, " cycles=%zu of=%zu stopped=%s first_ms=%.2f last_ms=%.2f max_ms=%.2f offers=%zu",
                    r.cycles, 2 * s.frameworks, r.stopped.c_str(), r.first_ms, r.last_ms, r.max_ms, r.offers);
      print_line("decline", params, r.mean_ms, s.mesos_ms, extra);
      std::printf("bench=allocator memory shape=decline %s bytes_per_agent=%zu bytes_per_framework=%zu "
                  "bytes_per_agent_after_cycles=%zu estimate_per_agent_after_cycles=%zu\n",
                  params.c_str(), r.bytes_per_agent, r.bytes_per_framework, r.bytes_per_agent_after,
                  r.estimate_per_agent);
      std::fflush(stdout);
    }
  }
  if (opts.shape == "quota" || opts.shape == "all")
    run_quota(opts);
  return 0;
}
