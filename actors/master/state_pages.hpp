#pragma once
// The master's state in pages for HTTP /state (messages/state_view.hpp), without actor code. Each page costs a
// bounded amount of copying, so the master answers other messages between pages. Pages follow stable keys (agent
// IDs in order, sequence numbers of the completed history), so a page never repeats or skips an agent even if the
// state changed since the previous one; the whole is not one atomic snapshot (a task may end between pages).
#include "actors/master/cluster_state.hpp"
#include "messages/state_view.hpp"

#include <cstddef>

namespace mesoscaf {

/// Agents, offers and tasks per page (an agent with more live tasks than this still goes whole into one page).
/// Views are shared, not copied (messages/state_view.hpp): a page of 1,000 costs the master well under a ms.
constexpr std::size_t default_state_page_budget = 1000;

/// A task entry as the views show it: the entry's shared view while it still shows the entry as it is, else a
/// new one, which the entry keeps.
task_ref view_of(const task_entry& t);
/// An agent and a framework as the views show them (the agent's view is shared while it shows the entry as it is).
agent_ref view_of(const agent_entry& a);
framework_view view_of(const cluster_state& reg, const framework_entry& f);

/// Fills `out` with the page starting at `at` (the header page: frameworks only; the caller adds the master's own
/// fields and the roles) and sets `out.next` / `out.done`.
void fill_state_page(const cluster_state& reg, const state_cursor& at, std::size_t budget, master_state_view& out);

} // namespace mesoscaf
