// The completed history kept between /state fetches: it follows the master's history as it grows and loses its
// oldest entries, and refuses a page that does not continue it (another history, or entries dropped unseen).
#define CAF_SUITE http_completed_history_cache
#include "test.hpp"

#include "actors/http/completed_history_cache.hpp"

#include <string>
#include <vector>

using namespace mesoscaf;

namespace {

/// The master's history: views made once, as the master keeps them.
struct history {
  uint64_t first = 0;
  std::vector<task_ref> entries;
  void push(const std::string& id) {
    task_view v;
    v.id = task_id{id};
    entries.push_back(task_ref{v});
  }
  void drop_oldest(std::size_t n) {
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n));
    first += n;
  }
  /// The page from sequence number `seq` to the end, and where it really starts (as the master answers).
  std::pair<uint64_t, std::vector<task_ref>> page(uint64_t seq) const {
    auto index = seq > first ? std::min<uint64_t>(seq - first, entries.size()) : 0;
    return {first + index, {entries.begin() + static_cast<std::ptrdiff_t>(index), entries.end()}};
  }
};

std::vector<std::string> ids(const http::completed_history_cache& c) {
  std::vector<std::string> out;
  for (auto& t : c.entries())
    out.push_back(t->id.value);
  return out;
}

/// One fetch as master_http.cpp does it: resume, add, start over once if refused.
void fetch(http::completed_history_cache& c, const history& h) {
  auto [start, tasks] = h.page(c.resume_from(h.first));
  if (!c.add(start, tasks)) {
    c.clear();
    auto [s2, t2] = h.page(h.first);
    REQUIRE(c.add(s2, t2));
  }
}

} // namespace

TEST(a fetch asks only for what ended since the previous one) {
  history h;
  h.push("a");
  h.push("b");
  http::completed_history_cache c;
  CHECK_EQUAL(c.resume_from(0), 0u);
  REQUIRE(c.add(0, h.entries));
  h.push("c");
  // The next page starts at the last cached entry, which it must repeat.
  CHECK_EQUAL(c.resume_from(0), 1u);
  auto [start, tasks] = h.page(1);
  CHECK_EQUAL(tasks.size(), 2u);
  REQUIRE(c.add(start, tasks));
  CHECK_EQUAL(ids(c), (std::vector<std::string>{"a", "b", "c"}));
  // Nothing new: the page holds the repeated entry only.
  fetch(c, h);
  CHECK_EQUAL(ids(c), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(entries the master dropped leave the cache) {
  history h;
  for (auto id : {"a", "b", "c", "d"})
    h.push(id);
  http::completed_history_cache c;
  fetch(c, h);
  h.drop_oldest(2);
  h.push("e");
  fetch(c, h);
  CHECK_EQUAL(ids(c), (std::vector<std::string>{"c", "d", "e"}));
  CHECK_EQUAL(c.first_seq(), 2u);
  // More ended than the history keeps: all that was cached is gone.
  for (auto id : {"f", "g", "h", "i"})
    h.push(id);
  h.drop_oldest(4);
  fetch(c, h);
  CHECK_EQUAL(ids(c), (std::vector<std::string>{"g", "h", "i"}));
  CHECK_EQUAL(c.first_seq(), 6u);
}

TEST(another history with the same numbers is not taken for the cached one) {
  history h;
  h.push("a");
  h.push("b");
  http::completed_history_cache c;
  fetch(c, h);
  // A master that took over rebuilt its history: same sequence numbers, other views.
  history other;
  other.push("x");
  other.push("y");
  other.push("z");
  auto [start, tasks] = other.page(c.resume_from(other.first));
  CHECK(!c.add(start, tasks));
  fetch(c, other);
  CHECK_EQUAL(ids(c), (std::vector<std::string>{"x", "y", "z"}));
  // A shorter one: the page asked for starts past its end.
  history shorter;
  shorter.push("p");
  fetch(c, shorter);
  CHECK_EQUAL(ids(c), (std::vector<std::string>{"p"}));
}
