// libFuzzer harness: the v1 scheduler and executor APIs' reading of a call (messages/mesos_v1/): the input is read
// as Mesos' JSON and as protobuf, and every operation, task and status of a call that decodes is converted to ours. Nothing may crash, and
// whatever converts must be valid in our own terms (resources that pass validate()). The RecordIO reader gets
// the same bytes. Run: scripts/fuzz v1_calls.
#include "messages/mesos_v1/convert.hpp"
#include "messages/mesos_v1/agent.pb.h"
#include "messages/mesos_v1/executor.pb.h"
#include "messages/mesos_v1/master.pb.h"
#include "messages/mesos_v1/recordio.hpp"
#include "messages/mesos_v1/scheduler.pb.h"
#include "messages/mesos_v1/wire_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void convert_call(const mesos::v1::scheduler::Call& call) {
  using namespace mesoscaf;
  for (const auto& op : call.accept().operations()) {
    offer_operation out;
    if (!mesos_v1::from_v1(op, out).empty())
      continue;
    if (!out.resources.validate().empty())
      __builtin_trap();
    for (const auto& t : out.tasks)
      if (!t.resources.validate().empty())
        __builtin_trap();
  }
  framework_info info;
  (void) mesos_v1::from_v1(call.subscribe().framework_info(), info);
  filters f;
  if (mesos_v1::from_v1(call.decline().filters(), f).empty() && !(f.refuse_seconds >= 0))
    __builtin_trap();
  // What decodes re-encodes, in both codecs.
  (void) mesos_v1::to_json(call);
  (void) call.SerializeAsString();
}

// An executor's call: its tasks and statuses convert or are refused; a status that converts is an executor's.
void convert_executor_call(const mesos::v1::executor::Call& call) {
  using namespace mesoscaf;
  executor_id eid{call.executor_id().value()};
  auto check_status = [&](const mesos::v1::TaskStatus& in) {
    task_status out;
    if (!mesos_v1::from_v1(in, eid, out).empty())
      return;
    if (out.task.empty() || out.source != status_source::executor || out.executor != eid || out.uuid.size() != 36)
      __builtin_trap();
  };
  check_status(call.update().status());
  for (const auto& u : call.subscribe().unacknowledged_updates())
    check_status(u.status());
  for (const auto& t : call.subscribe().unacknowledged_tasks()) {
    task_info out;
    if (mesos_v1::from_v1(t, out).empty() && !out.resources.validate().empty())
      __builtin_trap();
  }
  (void) mesos_v1::to_json(call);
}

// The operator's resource calls: what converts is valid (the master converts them the same way).
void convert_master_call(const mesos::v1::master::Call& call) {
  auto check = [](const auto& resources) {
    mesoscaf::resource_set out;
    if (mesoscaf::mesos_v1::from_v1(resources, out).empty() && !out.validate().empty())
      __builtin_trap();
  };
  check(call.reserve_resources().resources());
  check(call.unreserve_resources().resources());
  check(call.create_volumes().volumes());
  check(call.destroy_volumes().volumes());
  (void) mesoscaf::mesos_v1::to_json(call);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  for (auto codec : {mesoscaf::mesos_v1::codec::json, mesoscaf::mesos_v1::codec::protobuf}) {
    mesos::v1::scheduler::Call call;
    if (mesoscaf::mesos_v1::decode(codec, bytes, call).empty())
      convert_call(call);
    mesos::v1::executor::Call exec_call;
    if (mesoscaf::mesos_v1::decode(codec, bytes, exec_call).empty())
      convert_executor_call(exec_call);
    // The operator APIs' calls (UPDATE_QUOTA's maps among them): what decodes re-encodes.
    mesos::v1::master::Call master_call;
    if (mesoscaf::mesos_v1::decode(codec, bytes, master_call).empty())
      convert_master_call(master_call);
    mesos::v1::agent::Call agent_call;
    if (mesoscaf::mesos_v1::decode(codec, bytes, agent_call).empty())
      (void) mesoscaf::mesos_v1::to_json(agent_call);
  }
  mesoscaf::mesos_v1::recordio_reader reader{1 << 16};
  std::vector<std::string> records;
  if (reader.feed(bytes, records))
    for (const auto& r : records)
      if (r.size() > (1 << 16))
        __builtin_trap();
  return 0;
}
