#pragma once
// Mesos' v1 messages to and from ours. Reading is strict: every value we cannot represent is refused with a
// message naming the field (a reservation refinement stack, revocable or shared resources, secrets), never
// dropped silently. Validation of what the values mean (offers, fit, IDs) stays with the master.
#include "messages/framework_info.hpp"
#include "messages/offer.hpp"
#include "messages/task_info.hpp"
#include "messages/task_status.hpp"

#include "messages/mesos_v1/mesos.pb.h"

#include <map>
#include <string>

namespace mesoscaf::mesos_v1 {

namespace v1 = ::mesos::v1;
template <class T>
using repeated = google::protobuf::RepeatedPtrField<T>;

// -- from clients -- each returns "" or why the value cannot be taken.
std::string from_v1(const v1::FrameworkInfo& in, framework_info& out);
std::string from_v1(const repeated<v1::Resource>& in, resource_set& out);
std::string from_v1(const v1::CommandInfo& in, command_info& out);
std::string from_v1(const v1::ExecutorInfo& in, executor_info& out);
std::string from_v1(const v1::TaskInfo& in, task_info& out);
std::string from_v1(const v1::Offer::Operation& in, offer_operation& out);
std::string from_v1(const v1::Filters& in, filters& out);
/// An executor's UPDATE (executor API): the 16-byte `uuid` is required, TASK_STAGING is not a state an executor
/// may report, and the status is the executor's own (source, executor ID).
std::string from_v1(const v1::TaskStatus& in, const executor_id& executor, task_status& out);

// -- to clients --
/// How a framework reads resources: MULTI_ROLE frameworks see each resource's allocation role, frameworks with
/// RESERVATION_REFINEMENT read reservations as a stack (`reservations`), older ones as `role` + `reservation`.
struct resource_format {
  bool allocation_info = false;
  bool refinement = false;
  static resource_format of(const framework_info& fw);
};
void to_v1(const resource_set& in, const std::string& allocation_role, resource_format format,
           repeated<v1::Resource>* out);
/// An agent's attributes in Mesos' typed form (scalar, ranges, set or text), as offers and the operator API show them.
void to_v1(const std::map<std::string, std::string>& attributes, repeated<v1::Attribute>* out);
void to_v1(const offer& in, resource_format format, v1::Offer* out);
void to_v1(const task_status& in, v1::TaskStatus* out);
void to_v1(const framework_info& in, v1::FrameworkInfo* out);
/// What an executor is given (executor API's SUBSCRIBED, LAUNCH and LAUNCH_GROUP).
void to_v1(const command_info& in, v1::CommandInfo* out);
void to_v1(const executor_info& in, resource_format format, v1::ExecutorInfo* out);
void to_v1(const task_info& in, resource_format format, v1::TaskInfo* out);
void to_v1(const kill_policy& in, v1::KillPolicy* out);

/// A status update's ID on the wire: Mesos sends 16 raw bytes; ours is the UUID's text. Other text passes as is.
std::string uuid_to_wire(const std::string& text);
std::string uuid_from_wire(const std::string& bytes);

} // namespace mesoscaf::mesos_v1
