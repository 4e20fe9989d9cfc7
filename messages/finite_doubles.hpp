#pragma once
// Every double a peer or a store hands this process is finite (messages/finite_doubles.cpp).

namespace mesoscaf {

/// Links the check into a program (set_process_defaults calls it; so do the fuzz harnesses). Does nothing else.
void use_finite_doubles();

} // namespace mesoscaf
