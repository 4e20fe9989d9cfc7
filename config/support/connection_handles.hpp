#pragma once
// Fresh numbers for accepted connections.
//
// CAF 0.17.6 names a connection by its file descriptor and cleans up a closed connection late: the BASP broker
// queues the clean-up behind messages still being deserialized, while the socket is already closed. The kernel
// hands the lowest free descriptor to the next accepted connection, so under churn (executors of finished tasks
// leaving while new ones arrive) a new peer can get the number of one that just left; the late clean-up then erases
// the new connection's routing entry and endpoint state, and its messages arrive without a sender for good.
//
// While enabled, every `accept` in the process (CAF's doorman calls it) moves the new socket to the next descriptor
// of a rotating window, so a number comes back only after the window has gone round once (hundreds of accepts).
#include <utility>

namespace mesoscaf {

/// Turns the rotation on for this process (idempotent) and raises the soft open-file limit to the hard one (up to
/// 1 << 20) so a master can hold thousands of peers. Called by `set_process_defaults`.
void use_fresh_connection_handles();

/// The window accepted sockets rotate through: [first, second). Empty (first == second) while disabled.
std::pair<int, int> connection_handle_window();

} // namespace mesoscaf
