// Signal handling and the shutdown watchdog shared by the daemon subcommands.
#include "apps/mesoscaf/subcommands.hpp"

#include <cstdio>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace mesoscaf {

sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int wait_for_termination(const sigset_t& set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
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
