// Signal handling and the shutdown watchdog shared by the daemon subcommands.
#include "apps/mesoscaf/subcommands.hpp"

#include "config/support/logging.hpp"

#include <cstdio>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

namespace mesoscaf {

void raise_open_file_limit() {
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int wait_for_termination(const sigset_t& set) {
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0)
      continue;
    if (sig != SIGHUP)
      return sig;
    // logrotate renamed the file: go on in a new one under the configured name.
    if (log::file_path().empty())
      LOG_DEBUG("log", "SIGHUP: no --log-file to reopen");
    else if (auto err = log::reopen(); !err.empty())
      LOG_ERROR("log", "SIGHUP: " << err << "; still writing to the old file");
    else
      LOG_INFO("log", "SIGHUP: log file reopened");
  }
}

void start_shutdown_watchdog(std::chrono::seconds limit) {
  std::thread{[limit] {
    std::this_thread::sleep_for(limit);
    std::cerr << "mesoscaf: shutdown did not finish within " << limit.count() << " s, exiting" << std::endl;
    std::fflush(stdout);
    _exit(1);
  }}.detach();
}

} // namespace mesoscaf

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

namespace mesoscaf {

bool terminate_actor(caf::actor_system& sys, const caf::actor& root, std::chrono::milliseconds grace) {
  if (!root)
    return true;
  caf::scoped_actor self{sys};
  self->monitor(root);
  self->send_exit(root, caf::exit_reason::user_shutdown);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(grace) >> [] {});
  if (down)
    return true;
  self->send_exit(root, caf::exit_reason::kill);
  self->receive([&](caf::down_msg&) {}, caf::after(std::chrono::seconds(2)) >> [] {});
  return false;
}

} // namespace mesoscaf
