#define CAF_SUITE messages_compact_codec
#include "test.hpp"

#include "messages/agent_info.hpp"
#include "messages/compact_codec.hpp"
#include "messages/finite_doubles.hpp"
#include "messages/framework_info.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include <cstring>
#include <limits>
#include <random>

using namespace mesoscaf;

namespace {

resource_set res(const char* text) {
  auto r = resource_set::parse(text);
  if (!r)
    CAF_FAIL("bad resources " << text);
  return *r;
}

/// A re-registration using every kind of field: optionals present and absent, maps, sets, ranges, volumes,
/// enums, doubles, empty and long strings.
agent_reregistration sample() {
  agent_reregistration r;
  r.info.id = agent_id{"agent-1"};
  r.info.hostname = "host.example";
  r.info.port = 65535;
  r.info.total = res("cpus:4;mem:1024;ports:[31000-31009,32000-32000];zones:{a,b};disk(eng,dynamic)[v1:data]:100");
  r.info.attributes = {{"rack", "r1"}, {"zone", ""}};
  framework_info fi;
  fi.id = framework_id{"fw-1"};
  fi.name = std::string(300, 'n');
  fi.roles = {"eng", "ops"};
  fi.failover_timeout = 1.5e9;
  fi.capabilities = {"PARTITION_AWARE"};
  fi.checkpoint = true;
  r.frameworks = {fi, framework_info{}};
  executor_info ex;
  ex.id = executor_id{"ex-1"};
  ex.framework = fi.id;
  ex.command.shell = false;
  ex.command.value = "/bin/exec";
  ex.command.arguments = {"exec", "--flag"};
  ex.command.environment = {{"A", "1"}};
  ex.resources = res("cpus:0.1;mem:32");
  ex.role = "eng";
  r.executors = {ex};
  reregistered_task shell;
  shell.framework = fi.id;
  shell.info.name = "shell";
  shell.info.id = task_id{"t-1"};
  shell.info.agent = r.info.id;
  shell.info.resources = res("cpus:1;mem:128");
  command_info c;
  c.value = "sleep 10";
  shell.info.command = c;
  shell.info.data = std::string("\0binary\xff", 8);
  shell.state = task_state::running;
  reregistered_task custom = shell;
  custom.info.id = task_id{"t-2"};
  custom.info.command = caf::none;
  custom.info.executor = ex;
  custom.info.role = "eng";
  custom.state = task_state::finished;
  r.tasks = {shell, custom};
  return r;
}

std::vector<char> caf_encode(agent_reregistration x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (auto err = sink(x))
    CAF_FAIL("encoding failed");
  return buf;
}

caf::error caf_decode(const std::vector<char>& buf, agent_reregistration& out) {
  caf::binary_deserializer source{nullptr, buf};
  if (auto err = source(out))
    return err;
  if (source.remaining() != 0)
    return caf::make_error(caf::sec::invalid_argument, "trailing bytes");
  return caf::none;
}

std::string compact_bytes(agent_reregistration x) {
  std::string out;
  compact_writer w{out};
  inspect(w, x);
  REQUIRE(w.ok());
  return out;
}

} // namespace

TEST(a re-registration survives the round trip through CAF whole) {
  auto x = sample();
  auto buf = caf_encode(x);
  agent_reregistration y;
  REQUIRE(!caf_decode(buf, y));
  CHECK_EQUAL(caf::deep_to_string(x), caf::deep_to_string(y));
  CHECK(y.tasks[0].info.command && !y.tasks[0].info.executor);
  CHECK(!y.tasks[1].info.command && y.tasks[1].info.executor);
  CHECK_EQUAL(y.tasks[0].info.data.size(), 8u);
  CHECK_EQUAL(y.info.total, x.info.total);
  // Decoding into a used object replaces it entirely.
  agent_reregistration z = sample();
  z.tasks.resize(5);
  agent_reregistration small;
  small.info.id = agent_id{"small"};
  REQUIRE(!caf_decode(caf_encode(small), z));
  CHECK(z.tasks.empty());
  CHECK_EQUAL(z.info.id, agent_id{"small"});
}

TEST(CAF uses the compact form for re-registrations) {
  // CAF's field-by-field form of the same value would not start with the compact bytes' length and content.
  auto x = sample();
  auto compact = compact_bytes(x);
  auto buf = caf_encode(x);
  REQUIRE(buf.size() > compact.size());
  CHECK_EQUAL(std::string(buf.end() - static_cast<std::ptrdiff_t>(compact.size()), buf.end()), compact);
}

TEST(every truncation and garbage is an error and leaves the target alone) {
  auto compact = compact_bytes(sample());
  for (size_t n = 0; n < compact.size(); ++n) {
    compact_reader r{compact.data(), n};
    agent_reregistration y;
    inspect(r, y);
    CHECK(!r.ok());
  }
  // Through CAF: a cut message is an error and the target keeps its value.
  auto buf = caf_encode(sample());
  for (size_t n = 0; n < buf.size(); n += 7) {
    std::vector<char> cut(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    agent_reregistration target;
    target.info.id = agent_id{"untouched"};
    CHECK(caf_decode(cut, target));
    CHECK_EQUAL(target.info.id, agent_id{"untouched"});
  }
  // Trailing bytes inside the compact string.
  {
    std::string extra = compact + "x";
    std::vector<char> wrapped;
    caf::binary_serializer sink{nullptr, wrapped};
    REQUIRE(!sink(extra));
    agent_reregistration y;
    CHECK(caf_decode(wrapped, y));
  }
  // Random bit flips never crash and never allocate beyond the input (lengths are checked).
  std::mt19937 gen{7};
  for (int i = 0; i < 3000; ++i) {
    auto bad = compact;
    auto pos = std::uniform_int_distribution<size_t>{0, bad.size() - 1}(gen);
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << std::uniform_int_distribution<int>{0, 7}(gen)));
    compact_reader r{bad.data(), bad.size()};
    agent_reregistration y;
    inspect(r, y);
    if (r.ok())
      CHECK_LESS_OR_EQUAL(y.tasks.size(), bad.size());
  }
}

TEST(a huge length is refused before anything is allocated) {
  // An agent_info whose ID claims 4 GiB - 1 bytes.
  std::string bytes("\xff\xff\xff\xff", 4);
  bytes += "abc";
  compact_reader r{bytes.data(), bytes.size()};
  agent_reregistration y;
  inspect(r, y);
  CHECK(!r.ok());
  // A task list of 2^32 - 1 entries after a valid agent_info.
  agent_reregistration x;
  auto prefix = compact_bytes(x);
  prefix.resize(prefix.size() - 4);   // drop the empty task count...
  prefix += std::string("\xff\xff\xff\xff", 4);   // ...and claim billions of tasks
  compact_reader r2{prefix.data(), prefix.size()};
  inspect(r2, y);
  CHECK(!r2.ok());
}

TEST(a bool is 0 or 1) {
  agent_reregistration x;
  framework_info fi;
  fi.checkpoint = true;
  x.frameworks = {fi};
  auto bytes = compact_bytes(x);
  auto pos = bytes.rfind('\x01');
  REQUIRE(pos != std::string::npos);
  bytes[pos] = '\x02';
  compact_reader r{bytes.data(), bytes.size()};
  agent_reregistration y;
  inspect(r, y);
  CHECK(!r.ok());
}

TEST(resources take their short form in the compact codec too) {
  resource cpus;
  cpus.name = "cpus";
  cpus.scalar = 1500;
  std::string bytes;
  compact_writer w{bytes};
  w(cpus);
  // flags (1) + name (4 + 4) + role (4 + 1) + scalar (8).
  CHECK_EQUAL(bytes.size(), 22u);
  resource back;
  compact_reader r{bytes.data(), bytes.size()};
  r(back);
  REQUIRE(r.ok());
  CHECK(back == cpus);
  bytes[0] = '\x03';   // no such value type
  compact_reader bad{bytes.data(), bytes.size()};
  bad(back);
  CHECK(!bad.ok());
}

TEST(a double that is not finite is refused wherever a peer could send one) {
  use_finite_doubles();
  // CAF's own form: the bits of infinity (CAF 0.17 would read them, and hang when writing the value again).
  for (uint64_t bits : {uint64_t{0x7ff0000000000000}, uint64_t{0xfff0000000000000}, uint64_t{0x7fffffffffffffff}}) {
    std::vector<char> buf;
    caf::binary_serializer sink{nullptr, buf};
    REQUIRE(!sink(bits));
    caf::binary_deserializer source{nullptr, buf};
    double x = 42;
    CHECK(source(x));   // an error
    CHECK_EQUAL(x, 42.0);
  }
  std::vector<char> ok;
  caf::binary_serializer sink{nullptr, ok};
  double two = 2.5;
  REQUIRE(!sink(two));
  caf::binary_deserializer source{nullptr, ok};
  double back = 0;
  CHECK(!source(back));
  CHECK_EQUAL(back, 2.5);
  // The compact form: a framework's failover timeout of infinity fails the whole record.
  framework_info fi;
  fi.id = framework_id{"f"};
  fi.failover_timeout = 7.5;
  std::string bytes;
  compact_writer w{bytes};
  inspect(w, fi);
  auto pos = bytes.find(std::string("\x00\x00\x00\x00\x00\x00\x1e\x40", 8));   // 7.5 as IEEE bits
  REQUIRE(pos != std::string::npos);
  double inf = std::numeric_limits<double>::infinity();
  std::memcpy(&bytes[pos], &inf, sizeof inf);
  compact_reader reader{bytes.data(), bytes.size()};
  framework_info out;
  inspect(reader, out);
  CHECK(!reader.ok());
}
