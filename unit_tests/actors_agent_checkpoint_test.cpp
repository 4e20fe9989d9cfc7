#define CAF_SUITE actors_agent_checkpoint
#include "config/support/files.hpp"
#include "test.hpp"

#include "actors/agent/agent_checkpoint.hpp"
#include "actors/agent/agent_disk_worker.hpp"
#include "child_process.hpp"
#include "test_helpers.hpp"
#include "containerizer/volumes.hpp"

#include <caf/all.hpp>

#include <boost/crc.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace mesoscaf;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << bytes;
}

framework_info make_fw(const std::string& id) {
  framework_info f;
  f.id = framework_id{id};
  f.name = "fw " + id;
  f.user = "nobody";
  f.roles = {"eng"};
  f.failover_timeout = 3.5;
  f.capabilities = {"PARTITION_AWARE"};
  f.checkpoint = true;
  return f;
}

executor_record make_exec(const std::string& fw, const std::string& eid) {
  executor_record e;
  e.framework = framework_id{fw};
  e.info.id = executor_id{eid};
  e.info.framework = framework_id{fw};
  e.info.name = "exec";
  e.info.command.value = "sleep 100";
  e.info.role = "eng";
  e.command = true;
  e.container = container_id{"c-" + eid};
  e.sandbox = "/tmp/sb/" + eid;
  e.pid = 4242;
  e.start_time = 123456789;
  return e;
}

task_record make_task(const std::string& fw, const std::string& tid, const std::string& eid) {
  task_record t;
  t.framework = framework_id{fw};
  t.info.id = task_id{tid};
  t.info.name = "task " + tid;
  t.info.agent = agent_id{"a1"};
  t.info.data = std::string("bin\0ary", 7);
  t.info.role = "eng";
  t.executor = executor_id{eid};
  return t;
}

update_record upd(const std::string& fw, const std::string& tid, task_state st, const std::string& uuid) {
  update_record r;
  r.update.framework = framework_id{fw};
  r.update.status.task = task_id{tid};
  r.update.status.state = st;
  r.update.status.uuid = uuid;
  r.update.status.message = "msg " + uuid;
  r.update.latest_state = st;
  return r;
}

update_record ack(const std::string& uuid) {
  update_record r;
  r.is_ack = true;
  r.uuid = uuid;
  return r;
}

std::vector<std::string> log_uuids(const std::vector<update_record>& log) {
  std::vector<std::string> result;
  for (auto& r : log)
    result.push_back(r.is_ack ? "ack:" + r.uuid : r.update.status.uuid);
  return result;
}

} // namespace

TEST(paths) {
  framework_id fw{"f1"};
  CHECK_EQUAL(agent_record_path(), "meta/agent");
  CHECK_EQUAL(framework_dir(fw), "meta/frameworks/f1");
  CHECK_EQUAL(framework_record_path(fw), "meta/frameworks/f1/framework");
  CHECK_EQUAL(executor_dir(fw, executor_id{"e1"}), "meta/frameworks/f1/executors/e1");
  CHECK_EQUAL(executor_record_path(fw, executor_id{"e1"}), "meta/frameworks/f1/executors/e1/executor");
  CHECK_EQUAL(task_dir(fw, task_id{"t.1"}), "meta/frameworks/f1/tasks/t.1");
  CHECK_EQUAL(task_record_path(fw, task_id{"t.1"}), "meta/frameworks/f1/tasks/t.1/task");
  CHECK_EQUAL(task_updates_path(fw, task_id{"t.1"}), "meta/frameworks/f1/tasks/t.1/updates");
}

TEST(unsafe IDs give empty paths) {
  for (std::string bad : {"", ".", "..", "a/b", "../x", "sp ace", "x\n"}) {
    CHECK_EQUAL(framework_dir(framework_id{bad}), "");
    CHECK_EQUAL(framework_record_path(framework_id{bad}), "");
    CHECK_EQUAL(executor_record_path(framework_id{bad}, executor_id{"e"}), "");
    CHECK_EQUAL(executor_record_path(framework_id{"f"}, executor_id{bad}), "");
    CHECK_EQUAL(executor_dir(framework_id{"f"}, executor_id{bad}), "");
    CHECK_EQUAL(task_record_path(framework_id{"f"}, task_id{bad}), "");
    CHECK_EQUAL(task_updates_path(framework_id{"f"}, task_id{bad}), "");
    CHECK_EQUAL(task_dir(framework_id{bad}, task_id{"t"}), "");
  }
}

TEST(records round trip) {
  agent_record a;
  a.id = agent_id{"agent-1"};
  a.boot_id = "boot";
  a.port = 5051;
  agent_record a2;
  CHECK_EQUAL(decode_record(encode_frame(a), a2), "");
  CHECK_EQUAL(a2.id, a.id);
  CHECK_EQUAL(a2.boot_id, "boot");
  CHECK_EQUAL(a2.port, 5051u);

  auto f = make_fw("f1");
  framework_info f2;
  CHECK_EQUAL(decode_record(encode_frame(f), f2), "");
  CHECK_EQUAL(f2.id, f.id);
  CHECK_EQUAL(f2.name, f.name);
  CHECK(f2.roles == f.roles);
  CHECK(f2.capabilities == f.capabilities);
  CHECK_EQUAL(f2.failover_timeout, 3.5);
  CHECK(f2.checkpoint);

  auto e = make_exec("f1", "e1");
  executor_record e2;
  CHECK_EQUAL(decode_record(encode_frame(e), e2), "");
  CHECK_EQUAL(e2.info.id, e.info.id);
  CHECK_EQUAL(e2.info.role, "eng");
  CHECK_EQUAL(e2.info.command.value, "sleep 100");
  CHECK(e2.command);
  CHECK_EQUAL(e2.container, e.container);
  CHECK_EQUAL(e2.sandbox, e.sandbox);
  CHECK_EQUAL(e2.pid, 4242);
  CHECK_EQUAL(e2.start_time, 123456789u);

  auto t = make_task("f1", "t1", "e1");
  task_record t2;
  CHECK_EQUAL(decode_record(encode_frame(t), t2), "");
  CHECK_EQUAL(t2.info.id, t.info.id);
  CHECK_EQUAL(t2.info.data, t.info.data);
  CHECK_EQUAL(t2.info.role, "eng");
  CHECK_EQUAL(t2.executor, t.executor);
}

// Little-endian u32 at `p`, and a frame rebuilt from a length word and a payload (CRC recomputed).
uint32_t u32_at(const std::string& bytes, size_t p) {
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i)
    x |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[p + i])) << (8 * i);
  return x;
}

std::string make_frame(uint32_t length_word, const std::string& payload) {
  boost::crc_32_type crc;
  crc.process_bytes(payload.data(), payload.size());
  std::string out;
  for (auto x : {length_word, static_cast<uint32_t>(crc.checksum())})
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
  return out + payload;
}

TEST(frame layout is a versioned length then crc then version and payload) {
  auto bytes = encode_frame(ack("u1"));
  REQUIRE(bytes.size() > 9u);
  auto word = u32_at(bytes, 0);
  CHECK_NOT_EQUAL(word & 0x80000000u, 0u);
  CHECK_EQUAL(word & 0x7fffffffu, bytes.size() - 8);
  CHECK_EQUAL(static_cast<int>(bytes[8]), 1);
}

TEST(a record written before frames were versioned still reads) {
  agent_record a;
  a.id = agent_id{"agent-1"};
  a.port = 7;
  auto bytes = encode_frame(a);
  // The old layout: no top bit, no version byte.
  auto payload = bytes.substr(9);
  agent_record out;
  CHECK_EQUAL(decode_record(make_frame(static_cast<uint32_t>(payload.size()), payload), out), "");
  CHECK_EQUAL(out.id, a.id);
  CHECK_EQUAL(out.port, 7u);
}

TEST(a frame of a newer format version is refused with the reason) {
  agent_record a;
  a.id = agent_id{"agent-1"};
  auto bytes = encode_frame(a);
  auto payload = bytes.substr(8);
  payload[0] = 2;
  agent_record out;
  auto err = decode_record(make_frame(0x80000000u | static_cast<uint32_t>(payload.size()), payload), out);
  CHECK(err.find("version 2") != std::string::npos);
  CHECK(out.id.empty());
}

TEST(bad record files are errors and change nothing) {
  agent_record a;
  a.id = agent_id{"agent-1"};
  a.port = 7;
  auto bytes = encode_frame(a);
  agent_record out;
  out.port = 99;
  CHECK_NOT_EQUAL(decode_record("", out), "");
  CHECK_NOT_EQUAL(decode_record(bytes.substr(0, 5), out), "");
  CHECK_NOT_EQUAL(decode_record(bytes.substr(0, bytes.size() - 1), out), "");
  CHECK_NOT_EQUAL(decode_record(bytes + "x", out), "");
  auto flipped = bytes;
  flipped[10] ^= 0x01;
  CHECK_NOT_EQUAL(decode_record(flipped, out), "");
  // A frame holding another kind of record (CRC fine) does not decode as this one.
  framework_info f;
  CHECK_NOT_EQUAL(decode_record(encode_frame(make_task("f", "t", "e")), f), "");
  CHECK_EQUAL(out.port, 99u);
  CHECK(out.id.empty());
}

TEST(update log round trip) {
  std::string bytes;
  std::vector<update_record> in{upd("f", "t", task_state::running, "u1"), ack("u1"),
                                upd("f", "t", task_state::finished, "u2")};
  for (auto& r : in)
    bytes += encode_frame(r);
  std::vector<update_record> out;
  bool truncated = true;
  CHECK_EQUAL(decode_update_log(bytes, out, &truncated), "");
  CHECK(!truncated);
  CHECK_EQUAL(log_uuids(out), (std::vector<std::string>{"u1", "ack:u1", "u2"}));
  CHECK(out[2].update.status.state == task_state::finished);
  CHECK_EQUAL(out[2].update.status.message, "msg u2");
  // Empty log: no records.
  CHECK_EQUAL(decode_update_log("", out, &truncated), "");
  CHECK(out.empty());
  CHECK(!truncated);
}

TEST(a torn tail is dropped and flagged) {
  std::string good = encode_frame(upd("f", "t", task_state::running, "u1")) + encode_frame(ack("u1"));
  auto last = encode_frame(upd("f", "t", task_state::finished, "u2"));
  // Cut at every point inside the last frame: the first two records survive.
  for (size_t cut = 1; cut < last.size(); ++cut) {
    std::vector<update_record> out;
    bool truncated = false;
    CHECK_EQUAL(decode_update_log(good + last.substr(0, cut), out, &truncated), "");
    CHECK(truncated);
    CHECK_EQUAL(log_uuids(out), (std::vector<std::string>{"u1", "ack:u1"}));
  }
  // A last frame whose payload is garbage (length written, data not) is torn too.
  auto zeros = last;
  std::fill(zeros.begin() + 8, zeros.end(), '\0');
  std::vector<update_record> out;
  bool truncated = false;
  CHECK_EQUAL(decode_update_log(good + zeros, out, &truncated), "");
  CHECK(truncated);
  CHECK_EQUAL(out.size(), 2u);
  // A zero-filled tail (file extended, nothing written).
  CHECK_EQUAL(decode_update_log(good + std::string(40, '\0'), out, &truncated), "");
  CHECK(truncated);
  CHECK_EQUAL(out.size(), 2u);
}

TEST(corruption before intact frames is an error) {
  auto f1 = encode_frame(upd("f", "t", task_state::running, "u1"));
  auto f2 = encode_frame(ack("u1"));
  auto f3 = encode_frame(upd("f", "t", task_state::finished, "u2"));
  std::vector<update_record> out{ack("keep")};
  // Bit flip in the first frame's payload.
  auto bytes = f1 + f2 + f3;
  bytes[12] ^= 0x10;
  CHECK_NOT_EQUAL(decode_update_log(bytes, out), "");
  // Bit flip in the middle frame's length field.
  bytes = f1 + f2 + f3;
  bytes[f1.size()] ^= 0x40;
  CHECK_NOT_EQUAL(decode_update_log(bytes, out), "");
  // Bit flip in the CRC of the first frame.
  bytes = f1 + f2 + f3;
  bytes[5] ^= 0x01;
  CHECK_NOT_EQUAL(decode_update_log(bytes, out), "");
  // Output untouched on error.
  CHECK_EQUAL(log_uuids(out), std::vector<std::string>{"ack:keep"});
  // The same flip in the LAST frame is a torn tail.
  bytes = f1 + f2 + f3;
  bytes[f1.size() + f2.size() + 12] ^= 0x10;
  bool truncated = false;
  CHECK_EQUAL(decode_update_log(bytes, out, &truncated), "");
  CHECK(truncated);
  CHECK_EQUAL(out.size(), 2u);
}

TEST(file helpers write append and remove) {
  test::temp_dir tmp{"ckpt-test"};
  auto wd = tmp.path() + "/work";   // not there yet: created
  auto rel = task_record_path(framework_id{"f"}, task_id{"t"});
  auto t = make_task("f", "t", "e");
  CHECK_EQUAL(write_checkpoint_file(wd, rel, encode_frame(t)), "");
  task_record back;
  CHECK_EQUAL(decode_record(slurp(wd + "/" + rel), back), "");
  CHECK_EQUAL(back.info.id, t.info.id);
  CHECK(!fs::exists(wd + "/" + rel + ".tmp"));
  // Replace.
  t.info.name = "renamed";
  CHECK_EQUAL(write_checkpoint_file(wd, rel, encode_frame(t)), "");
  CHECK_EQUAL(decode_record(slurp(wd + "/" + rel), back), "");
  CHECK_EQUAL(back.info.name, "renamed");
  // Append to a new log, with and without sync.
  auto log = task_updates_path(framework_id{"f"}, task_id{"t2"});
  CHECK_EQUAL(append_checkpoint_file(wd, log, encode_frame(upd("f", "t2", task_state::running, "u1")), true), "");
  CHECK_EQUAL(append_checkpoint_file(wd, log, encode_frame(ack("u1")), false), "");
  std::vector<update_record> out;
  CHECK_EQUAL(decode_update_log(slurp(wd + "/" + log), out), "");
  CHECK_EQUAL(log_uuids(out), (std::vector<std::string>{"u1", "ack:u1"}));
  // Remove a task directory; missing is fine.
  CHECK_EQUAL(remove_checkpoint_path(wd, task_dir(framework_id{"f"}, task_id{"t2"})), "");
  CHECK(!fs::exists(wd + "/" + log));
  CHECK_EQUAL(remove_checkpoint_path(wd, task_dir(framework_id{"f"}, task_id{"t2"})), "");
  CHECK(fs::exists(wd + "/" + rel));
}

TEST(file helpers refuse paths outside meta) {
  test::temp_dir tmp{"ckpt-test"};
  auto wd = tmp.path();
  spit(wd + "/precious", "x");
  for (std::string bad : {"", "meta", "precious", "meta/../precious", "meta//x", "/etc/passwd", "meta/a/../../p",
                          "other/x", "meta/x/"}) {
    CHECK_NOT_EQUAL(write_checkpoint_file(wd, bad, "x"), "");
    CHECK_NOT_EQUAL(append_checkpoint_file(wd, bad, "x", false), "");
    CHECK_NOT_EQUAL(remove_checkpoint_path(wd, bad), "");
  }
  CHECK_EQUAL(slurp(wd + "/precious"), "x");
  CHECK(!fs::exists(wd + "/meta"));
}

TEST(read checkpoint of a missing or fresh work dir) {
  test::temp_dir tmp{"ckpt-test"};
  recovered_state st;
  st.found = true;
  CHECK_EQUAL(read_checkpoint(tmp.path() + "/nothing", st), "");
  CHECK(!st.found);
  CHECK(st.frameworks.empty());
  // Frameworks without an agent record are not a checkpoint.
  CHECK_EQUAL(write_checkpoint_file(tmp.path(), framework_record_path(framework_id{"f"}), encode_frame(make_fw("f"))),
              "");
  CHECK_EQUAL(read_checkpoint(tmp.path(), st), "");
  CHECK(!st.found);
}

TEST(read checkpoint of a built tree) {
  test::temp_dir tmp{"ckpt-test"};
  auto wd = tmp.path();
  agent_record a;
  a.id = agent_id{"agent-1"};
  a.boot_id = "b1";
  a.port = 5051;
  framework_id f1{"f1"}, f2{"f2"};
  REQUIRE_EQUAL(write_checkpoint_file(wd, agent_record_path(), encode_frame(a)), "");
  REQUIRE_EQUAL(write_checkpoint_file(wd, framework_record_path(f1), encode_frame(make_fw("f1"))), "");
  REQUIRE_EQUAL(write_checkpoint_file(wd, framework_record_path(f2), encode_frame(make_fw("f2"))), "");
  REQUIRE_EQUAL(write_checkpoint_file(wd, executor_record_path(f1, executor_id{"e1"}),
                                      encode_frame(make_exec("f1", "e1"))),
                "");
  REQUIRE_EQUAL(write_checkpoint_file(wd, task_record_path(f1, task_id{"t1"}), encode_frame(make_task("f1", "t1", "e1"))),
                "");
  REQUIRE_EQUAL(append_checkpoint_file(wd, task_updates_path(f1, task_id{"t1"}),
                                       encode_frame(upd("f1", "t1", task_state::running, "u1"))
                                         + encode_frame(ack("u1")),
                                       true),
                "");
  // A task whose log has a torn tail.
  REQUIRE_EQUAL(write_checkpoint_file(wd, task_record_path(f1, task_id{"t2"}), encode_frame(make_task("f1", "t2", "e1"))),
                "");
  auto torn = encode_frame(upd("f1", "t2", task_state::running, "v1"))
              + encode_frame(upd("f1", "t2", task_state::finished, "v2")).substr(0, 9);
  REQUIRE_EQUAL(append_checkpoint_file(wd, task_updates_path(f1, task_id{"t2"}), torn, true), "");
  // A task without a log yet (checkpointed, no update taken over).
  REQUIRE_EQUAL(write_checkpoint_file(wd, task_record_path(f2, task_id{"t3"}), encode_frame(make_task("f2", "t3", "e9"))),
                "");
  // Leftovers of a crash between mkdir and rename: directories without records (and a .tmp file).
  fs::create_directories(wd + "/" + executor_dir(f1, executor_id{"e-half"}));
  fs::create_directories(wd + "/" + task_dir(f1, task_id{"t-half"}));
  spit(wd + "/" + task_dir(f1, task_id{"t-half"}) + "/task.tmp", "garbage");
  fs::create_directories(wd + "/" + framework_dir(framework_id{"f-half"}) + "/tasks/tx");

  recovered_state st;
  REQUIRE_EQUAL(read_checkpoint(wd, st), "");
  CHECK(st.found);
  CHECK_EQUAL(st.agent.id, a.id);
  CHECK_EQUAL(st.agent.boot_id, "b1");
  CHECK_EQUAL(st.agent.port, 5051u);
  REQUIRE_EQUAL(st.frameworks.size(), 2u);
  auto& rf1 = st.frameworks.at(f1);
  CHECK_EQUAL(rf1.info.name, "fw f1");
  REQUIRE_EQUAL(rf1.executors.size(), 1u);
  CHECK_EQUAL(rf1.executors.at(executor_id{"e1"}).record.pid, 4242);
  REQUIRE_EQUAL(rf1.tasks.size(), 2u);
  CHECK_EQUAL(log_uuids(rf1.tasks.at(task_id{"t1"}).updates), (std::vector<std::string>{"u1", "ack:u1"}));
  CHECK_EQUAL(rf1.tasks.at(task_id{"t1"}).record.executor, executor_id{"e1"});
  CHECK_EQUAL(log_uuids(rf1.tasks.at(task_id{"t2"}).updates), std::vector<std::string>{"v1"});
  auto& rf2 = st.frameworks.at(f2);
  CHECK(rf2.executors.empty());
  REQUIRE_EQUAL(rf2.tasks.size(), 1u);
  CHECK(rf2.tasks.at(task_id{"t3"}).updates.empty());
  // Warnings: torn tail of t2, e-half, t-half, f-half.
  CHECK_EQUAL(st.warnings.size(), 4u);
  for (auto& w : st.warnings)
    MESSAGE("warning: " << w);

  // A corrupt record is an error, not a guess.
  auto path = wd + "/" + executor_record_path(f1, executor_id{"e1"});
  auto bytes = slurp(path);
  bytes[bytes.size() / 2] ^= 0x01;
  spit(path, bytes);
  recovered_state st2;
  CHECK_NOT_EQUAL(read_checkpoint(wd, st2), "");
  CHECK(!st2.found);
}

TEST(read checkpoint rejects a record under the wrong directory) {
  test::temp_dir tmp{"ckpt-test"};
  auto wd = tmp.path();
  agent_record a;
  a.id = agent_id{"agent-1"};
  REQUIRE_EQUAL(write_checkpoint_file(wd, agent_record_path(), encode_frame(a)), "");
  REQUIRE_EQUAL(write_checkpoint_file(wd, framework_record_path(framework_id{"f1"}), encode_frame(make_fw("other"))),
                "");
  recovered_state st;
  CHECK_NOT_EQUAL(read_checkpoint(wd, st), "");
}

TEST(clear keeps meta resources) {
  test::temp_dir tmp{"ckpt-test"};
  auto wd = tmp.path();
  agent_record a;
  a.id = agent_id{"agent-1"};
  REQUIRE_EQUAL(write_checkpoint_file(wd, agent_record_path(), encode_frame(a)), "");
  REQUIRE_EQUAL(write_checkpoint_file(wd, framework_record_path(framework_id{"f1"}), encode_frame(make_fw("f1"))), "");
  REQUIRE_EQUAL(write_file_atomically(wd + "/meta/resources", "cpus:1\n"), "");
  CHECK_EQUAL(clear_checkpoint(wd), "");
  CHECK(!fs::exists(wd + "/meta/agent"));
  CHECK(!fs::exists(wd + "/meta/frameworks"));
  CHECK_EQUAL(slurp(wd + "/meta/resources"), "cpus:1\n");
  recovered_state st;
  CHECK_EQUAL(read_checkpoint(wd, st), "");
  CHECK(!st.found);
  // Clearing an empty or missing work dir is fine.
  CHECK_EQUAL(clear_checkpoint(wd), "");
  CHECK_EQUAL(clear_checkpoint(wd + "/missing"), "");
}

TEST(boot id) {
  auto id = read_boot_id();
  CHECK(!id.empty());
  CHECK_EQUAL(id.find('\n'), std::string::npos);
  CHECK_EQUAL(id, read_boot_id());
}

// The disk worker's checkpoint jobs: thin wrappers of the helpers above, run in arrival order.
TEST(disk worker checkpoint and forget) {
  test::temp_dir tmp{"ckpt-test"};
  auto wd = tmp.path();
  test::threaded_config cfg;
  caf::actor_system sys{cfg};
  auto worker = spawn_agent_disk_worker(sys, wd, resource_set{});
  caf::scoped_actor self{sys};
  auto call = [&](auto... xs) {
    std::string result = "no reply";
    self->request(worker, std::chrono::seconds(30), xs...)
      .receive([&](const std::string& r) { result = r; },
               [&](const caf::error& e) { result = "error: " + sys.render(e); });
    return result;
  };
  framework_id fw{"f"};
  auto t = make_task("f", "t", "e");
  CHECK_EQUAL(call(atom::checkpoint_v, task_record_path(fw, task_id{"t"}), encode_frame(t), false, true), "");
  auto log = task_updates_path(fw, task_id{"t"});
  // Sent without waiting: processed in order, so the log holds them in order.
  self->send(worker, atom::checkpoint_v, log, encode_frame(upd("f", "t", task_state::running, "u1")), true, true);
  self->send(worker, atom::checkpoint_v, log, encode_frame(ack("u1")), true, false);
  CHECK_EQUAL(call(atom::checkpoint_v, log, encode_frame(upd("f", "t", task_state::finished, "u2")), true, true), "");
  std::vector<update_record> out;
  CHECK_EQUAL(decode_update_log(slurp(wd + "/" + log), out), "");
  CHECK_EQUAL(log_uuids(out), (std::vector<std::string>{"u1", "ack:u1", "u2"}));
  task_record back;
  CHECK_EQUAL(decode_record(slurp(wd + "/" + task_record_path(fw, task_id{"t"})), back), "");
  CHECK_EQUAL(back.info.name, t.info.name);
  // Errors come back as text.
  CHECK_NOT_EQUAL(call(atom::checkpoint_v, std::string{"../escape"}, std::string{"x"}, false, true), "");
  CHECK_NOT_EQUAL(call(atom::forget_v, std::string{"meta/.."}), "");
  CHECK(!fs::exists(wd + "/../escape"));
  CHECK_EQUAL(call(atom::forget_v, task_dir(fw, task_id{"t"})), "");
  CHECK(!fs::exists(wd + "/" + task_dir(fw, task_id{"t"})));
  CHECK(fs::exists(wd + "/meta/frameworks/f"));
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}
