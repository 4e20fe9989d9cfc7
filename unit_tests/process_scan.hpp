#pragma once
// What the real-process test suites (integration_recovery, integration_ha) need to look at processes from /proc
// and to wait for conditions, and their shared "exactly one terminal state" check. No CAF headers.
#include "messages/task_status.hpp"

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

namespace mesoscaf::test {

/// /proc/PID/<name> with NULs as spaces ("" if there is no such process).
std::string read_proc(pid_t pid, const char* name);

/// The state letter of /proc/PID/stat (0 if there is no such process).
char proc_state(pid_t pid);

/// Runs (zombies do not count: their parent has not reaped them yet, but they are gone).
bool alive(pid_t pid);

std::vector<pid_t> all_pids();

/// Live processes whose command line or environment mentions `needle` (a test's directory), except `exclude`
/// and this process.
std::vector<pid_t> processes_mentioning(const std::string& needle, const std::set<pid_t>& exclude = {});

/// "pid: cmdline; " for each.
std::string describe(const std::vector<pid_t>& pids);

/// Polls `pred` until it holds (true) or `limit` passed (false).
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(50));

/// "Exactly one terminal state at the framework": every terminal update of the task is the same state with the
/// same (non-empty, if repeated) uuid, i.e. at most an at-least-once repeat of one update; reconciliation
/// answers may repeat that state but name no other. Returns "" if fine.
std::string terminal_problem(const std::vector<task_status>& history);

} // namespace mesoscaf::test
