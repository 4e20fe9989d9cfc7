#define CAF_SUITE messages_resources
#include "test.hpp"

#include "messages/resources.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace mesoscaf;

namespace {

resource_set parse_ok(std::string_view text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  if (!r) {
    CAF_FAIL("parse of '" << std::string(text) << "' failed: " << err);
  }
  return *r;
}

// Returns the error message; fails the test if the text parsed.
std::string parse_err(std::string_view text) {
  std::string err;
  auto r = resource_set::parse(text, &err);
  CHECK(!r);
  if (r)
    MESSAGE("unexpectedly parsed '" << std::string(text) << "' as '" << r->to_string() << "'");
  CHECK(!err.empty());
  return err;
}

bool mentions(const std::string& err, const std::string& token) {
  if (err.find(token) != std::string::npos)
    return true;
  MESSAGE("error '" << err << "' does not mention '" << token << "'");
  return false;
}

resource_set random_set(std::mt19937& gen) {
  static const char* scalar_names[] = {"cpus", "mem", "disk", "gpus"};
  static const char* roles[] = {"*", "eng", "ops"};
  static const char* set_items[] = {"a", "b", "c", "d", "e", "f"};
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(gen); };
  resource_set s;
  int entries = pick(7);
  for (int i = 0; i < entries; ++i) {
    resource r;
    r.role = roles[pick(3)];
    switch (pick(3)) {
      case 0:
        r.name = scalar_names[pick(4)];
        r.type = value_type::scalar;
        r.scalar = std::uniform_int_distribution<milli>(0, 100000)(gen);
        break;
      case 1: {
        r.name = "ports";
        r.type = value_type::ranges;
        int n = pick(4);
        for (int k = 0; k < n; ++k) {
          uint64_t b = static_cast<uint64_t>(pick(200));
          r.ranges.push_back({b, b + static_cast<uint64_t>(pick(15))});
        }
        break;
      }
      default: {
        r.name = "zones";
        r.type = value_type::set;
        int n = pick(4);
        for (int k = 0; k < n; ++k)
          r.items.insert(set_items[pick(6)]);
        break;
      }
    }
    // Some reserved entries are dynamic reservations, some reserved disk a persistent volume: the metadata is
    // part of the key, so the arithmetic below must keep them apart.
    if (r.role != "*" && pick(3) == 0)
      r.dynamic = true;
    if (r.role != "*" && r.type == value_type::scalar && r.name == "disk" && pick(2) == 0) {
      r.volume_id = pick(2) == 0 ? "v1" : "v2";
      r.volume_path = "data/" + r.volume_id;
    }
    REQUIRE(s.add(r));
  }
  return s;
}

bool no_negatives(const resource_set& s) {
  for (const auto& r : s.items())
    if (r.type == value_type::scalar && r.scalar <= 0)
      return false;
  return true;
}

} // namespace

// --- parsing and printing ---------------------------------------------------------------------------------

TEST(parse basic) {
  auto r = parse_ok("cpus:2;mem:1024;disk:10000;ports:[31000-32000,33000-33005];zones:{a,b}");
  CHECK_EQUAL(r.items().size(), 5u);
  CHECK_EQUAL(r.scalar_milli("cpus"), 2000);
  CHECK_EQUAL(r.scalar_milli("mem"), 1024000);
  CHECK_EQUAL(r.scalar_value("disk"), 10000.0);
  auto ports = r.find("ports");
  REQUIRE(ports != nullptr);
  CHECK(ports->type == value_type::ranges);
  REQUIRE_EQUAL(ports->ranges.size(), 2u);
  CHECK_EQUAL(ports->ranges[0].begin, 31000u);
  CHECK_EQUAL(ports->ranges[0].end, 32000u);
  CHECK_EQUAL(ports->ranges[1].begin, 33000u);
  CHECK_EQUAL(ports->ranges[1].end, 33005u);
  auto zones = r.find("zones");
  REQUIRE(zones != nullptr);
  CHECK(zones->items == (std::set<std::string>{"a", "b"}));
  CHECK_EQUAL(r.to_string(), "cpus:2;disk:10000;mem:1024;ports:[31000-32000,33000-33005];zones:{a,b}");
  CHECK_EQUAL(r.validate(), "");
}

TEST(parse roles and whitespace) {
  auto r = parse_ok("  cpus(eng) : 2 ; cpus : 1.5 ;slots( ops ):  [ 1 - 3 , 5 ] ; disk(*):7 ;");
  CHECK_EQUAL(r.to_string(), "cpus:1.5;cpus(eng):2;disk:7;slots(ops):[1-3,5-5]");
  CHECK_EQUAL(r.scalar_milli("cpus"), 3500);
  CHECK_EQUAL(r.unreserved().to_string(), "cpus:1.5;disk:7");
  CHECK_EQUAL(r.reserved("eng").to_string(), "cpus(eng):2");
  CHECK_EQUAL(r.reserved("nobody").to_string(), "");
  CHECK_EQUAL(r.with_role("fw").to_string(), "cpus(fw):3.5;disk(fw):7;slots(fw):[1-3,5-5]");
  CHECK(r.find("cpus", "eng") != nullptr);
  CHECK(r.find("cpus", "ops") == nullptr);
}

TEST(parse empty and zero) {
  CHECK(parse_ok("").empty());
  CHECK(parse_ok("   ").empty());
  CHECK(parse_ok(";").empty());
  CHECK(parse_ok("cpus:0").empty());
  CHECK(parse_ok("cpus:0.0001").empty()); // rounds to zero, dropped
  CHECK(parse_ok("ports:[]").empty());
  CHECK(parse_ok("zones:{ }").empty());
  CHECK_EQUAL(parse_ok("cpus:0;mem:1").to_string(), "mem:1");
  CHECK_EQUAL(resource_set{}.to_string(), "");
}

TEST(scalar decimals and rounding) {
  CHECK_EQUAL(parse_ok("cpus:0.5").to_string(), "cpus:0.5");
  CHECK_EQUAL(parse_ok("cpus:0.500").to_string(), "cpus:0.5");
  CHECK_EQUAL(parse_ok("cpus:1.25").to_string(), "cpus:1.25");
  CHECK_EQUAL(parse_ok("cpus:0.001").to_string(), "cpus:0.001");
  CHECK_EQUAL(parse_ok("cpus:.5").to_string(), "cpus:0.5");
  CHECK_EQUAL(parse_ok("cpus:+3").to_string(), "cpus:3");
  CHECK_EQUAL(parse_ok("cpus:1e3").to_string(), "cpus:1000");
  CHECK_EQUAL(parse_ok("cpus:2.5e-1").to_string(), "cpus:0.25");
  // More than three decimals: rounded to the nearest thousandth, half up.
  CHECK_EQUAL(parse_ok("cpus:1.0004").scalar_milli("cpus"), 1000);
  CHECK_EQUAL(parse_ok("cpus:1.0005").scalar_milli("cpus"), 1001);
  CHECK_EQUAL(parse_ok("cpus:1.23456789").scalar_milli("cpus"), 1235);
  CHECK_EQUAL(parse_ok("cpus:0.9999").scalar_milli("cpus"), 1000);
  CHECK_EQUAL(parse_ok("cpus:0.9999").to_string(), "cpus:1");
  // Largest accepted value, exactly.
  auto max_units = std::to_string(max_scalar_milli / 1000);
  CHECK_EQUAL(parse_ok("mem:" + max_units).scalar_milli("mem"), max_scalar_milli / 1000 * 1000);
}

TEST(to_milli and from_milli) {
  CHECK_EQUAL(to_milli(1.5).value_or(-1), 1500);
  CHECK_EQUAL(to_milli(0.1).value_or(-1), 100);
  CHECK_EQUAL(to_milli(0.0004).value_or(-1), 0);
  CHECK_EQUAL(to_milli(0.0006).value_or(-1), 1);
  CHECK(!to_milli(-1));
  CHECK(!to_milli(std::nan("")));
  CHECK(!to_milli(std::numeric_limits<double>::infinity()));
  CHECK(!to_milli(1e300));
  CHECK(to_milli(static_cast<double>(max_scalar_milli) / 1000));
  CHECK(!to_milli(static_cast<double>(max_scalar_milli) / 1000 * 2));
  CHECK_EQUAL(from_milli(2500), 2.5);
  CHECK_EQUAL(from_milli(0), 0.0);
}

TEST(parse errors name the bad token) {
  CHECK(mentions(parse_err(":2"), "empty resource name"));
  CHECK(mentions(parse_err("(eng):2"), "empty resource name"));
  CHECK(mentions(parse_err("cp us:2"), "cp us"));
  CHECK(mentions(parse_err("cpu$:2"), "cpu$"));
  CHECK(mentions(parse_err("cpus(e ng):2"), "e ng"));
  CHECK(mentions(parse_err("cpus(en;g):2"), "cpus(en"));
  CHECK(mentions(parse_err("cpus():2"), "empty role"));
  CHECK(mentions(parse_err("cpus(eng:2"), "cpus(eng"));
  CHECK(mentions(parse_err("cpus 2"), "missing ':'"));
  CHECK(mentions(parse_err("cpus:1;mem"), "mem"));
  CHECK(mentions(parse_err("cpus:-1"), "negative"));
  CHECK(mentions(parse_err("cpus:-0.5"), "-0.5"));
  CHECK(mentions(parse_err("cpus:-1e3"), "negative"));
  CHECK(mentions(parse_err("cpus:nan"), "nan"));
  CHECK(mentions(parse_err("cpus:NaN"), "not a number"));
  CHECK(mentions(parse_err("cpus:inf"), "infinite"));
  CHECK(mentions(parse_err("cpus:Infinity"), "Infinity"));
  CHECK(mentions(parse_err("cpus:1e300"), "out of range"));
  CHECK(mentions(parse_err("mem:99999999999999999999999"), "out of range"));
  CHECK(mentions(parse_err("mem:" + std::to_string(max_scalar_milli / 1000 + 1)), "out of range"));
  CHECK(mentions(parse_err("cpus:"), "missing scalar"));
  CHECK(mentions(parse_err("cpus:abc"), "abc"));
  CHECK(mentions(parse_err("cpus:1.2.3"), "1.2.3"));
  CHECK(mentions(parse_err("cpus:0x10"), "0x10"));
  CHECK(mentions(parse_err("cpus:1e"), "1e"));
  CHECK(mentions(parse_err("cpus:."), "malformed"));
  CHECK(mentions(parse_err("ports:[5-3]"), "5-3"));
  CHECK(mentions(parse_err("ports:[a-3]"), "'a'"));
  CHECK(mentions(parse_err("ports:[1-x]"), "'x'"));
  CHECK(mentions(parse_err("ports:[1--3]"), "-3"));
  CHECK(mentions(parse_err("ports:[-3]"), "missing range bound"));
  CHECK(mentions(parse_err("ports:[1-2,,4-5]"), "empty range"));
  CHECK(mentions(parse_err("slots:[1-18446744073709551616]"), "18446744073709551616"));
  CHECK(mentions(parse_err("ports:[1-2"), "unterminated"));
  CHECK(mentions(parse_err("zones:{a,b"), "unterminated"));
  CHECK(mentions(parse_err("zones:{a,,b}"), "bad set item"));
  CHECK(mentions(parse_err("zones:{a b}"), "a b"));
  CHECK(mentions(parse_err("cpus:1;cpus:[1-2]"), "cpus"));
  CHECK(mentions(parse_err("cpus:1;cpus(eng):{a}"), "both scalar and set"));
  CHECK(mentions(parse_err("cpus:1;;mem:2"), "stray ';'"));
  // The biggest 64-bit bound is accepted (for a range resource other than ports).
  CHECK_EQUAL(parse_ok("slots:[18446744073709551615]").to_string(),
              "slots:[18446744073709551615-18446744073709551615]");
  // A null error pointer is allowed.
  CHECK(!resource_set::parse("cpus:-1"));
}

TEST(duplicates are summed and ranges normalized) {
  CHECK_EQUAL(parse_ok("cpus:1;cpus:2.5").to_string(), "cpus:3.5");
  CHECK_EQUAL(parse_ok("ports:[10-20,5-9,30-40,15-25,41-41]").to_string(), "ports:[5-25,30-41]");
  CHECK_EQUAL(parse_ok("ports:[1-2];ports:[3-4]").to_string(), "ports:[1-4]");
  CHECK_EQUAL(parse_ok("slots:[18446744073709551614-18446744073709551615,0-0,18446744073709551613]").to_string(),
              "slots:[0-0,18446744073709551613-18446744073709551615]");
  CHECK_EQUAL(parse_ok("zones:{b,a};zones:{c,a}").to_string(), "zones:{a,b,c}");
}

// --- arithmetic -------------------------------------------------------------------------------------------

TEST(scalar arithmetic) {
  auto a = parse_ok("cpus:2;mem:1024");
  auto b = parse_ok("cpus:0.5;mem:24;disk:10");
  CHECK_EQUAL((a + b).to_string(), "cpus:2.5;disk:10;mem:1048");
  CHECK_EQUAL((a - b).to_string(), "cpus:1.5;mem:1000");
  CHECK(!a.contains(b)); // no disk in a
  CHECK(a.contains(parse_ok("cpus:0.5;mem:24")));
  CHECK(a.contains(a));
  CHECK(a.contains(resource_set{}));
  CHECK(!a.contains(parse_ok("cpus:2.001")));
  // Subtracting more than is there floors at zero and drops the entry.
  CHECK_EQUAL((a - parse_ok("cpus:5")).to_string(), "mem:1024");
  CHECK_EQUAL((a - a).to_string(), "");
  auto c = a;
  c -= c;
  CHECK(c.empty());
  c = a;
  c += c;
  CHECK_EQUAL(c.to_string(), "cpus:4;mem:2048");
}

TEST(roles are separate pools) {
  auto a = parse_ok("cpus:2;cpus(eng):4");
  CHECK(a.contains(parse_ok("cpus(eng):3")));
  CHECK(!a.contains(parse_ok("cpus(eng):5")));
  CHECK(!a.contains(parse_ok("cpus(ops):1")));
  CHECK(!a.contains(parse_ok("cpus:3"))); // reserved cpus do not satisfy unreserved demand
  CHECK_EQUAL((a - parse_ok("cpus(eng):4")).to_string(), "cpus:2");
  CHECK_EQUAL((a + parse_ok("cpus(ops):1")).to_string(), "cpus:2;cpus(eng):4;cpus(ops):1");
  CHECK_EQUAL(a.scalar_milli("cpus"), 6000);
}

TEST(range arithmetic) {
  auto a = parse_ok("ports:[31000-32000]");
  CHECK_EQUAL((a - parse_ok("ports:[31100-31199]")).to_string(), "ports:[31000-31099,31200-32000]");
  CHECK_EQUAL((a - parse_ok("ports:[31000-31000,32000]")).to_string(), "ports:[31001-31999]");
  CHECK_EQUAL((a - parse_ok("ports:[30000-31500]")).to_string(), "ports:[31501-32000]");
  CHECK_EQUAL((a - parse_ok("ports:[0-40000]")).to_string(), "");
  CHECK_EQUAL((a - parse_ok("ports:[1-10,31005,31010-31011,50000]")).to_string(),
              "ports:[31000-31004,31006-31009,31012-32000]");
  CHECK_EQUAL((a + parse_ok("ports:[32001-32005,10-20]")).to_string(), "ports:[10-20,31000-32005]");
  CHECK(a.contains(parse_ok("ports:[31000-31005,31999-32000]")));
  CHECK(!a.contains(parse_ok("ports:[31000-31005,31999-32001]")));
  CHECK(!a.contains(parse_ok("ports:[30999]")));
  auto holes = parse_ok("ports:[1-5,7-9]");
  CHECK(!holes.contains(parse_ok("ports:[4-8]"))); // spans the hole at 6
  CHECK(holes.contains(parse_ok("ports:[2-3,8-9]")));
  // Filling the hole merges into one range.
  CHECK_EQUAL((holes + parse_ok("ports:[6]")).to_string(), "ports:[1-9]");
}

TEST(set arithmetic) {
  auto a = parse_ok("zones:{a,b,c}");
  CHECK_EQUAL((a - parse_ok("zones:{b,x}")).to_string(), "zones:{a,c}");
  CHECK_EQUAL((a - parse_ok("zones:{a,b,c}")).to_string(), "");
  CHECK_EQUAL((a + parse_ok("zones:{d}")).to_string(), "zones:{a,b,c,d}");
  CHECK(a.contains(parse_ok("zones:{a,c}")));
  CHECK(!a.contains(parse_ok("zones:{a,d}")));
}

TEST(type mismatches change nothing) {
  auto a = parse_ok("cpus:2");
  resource r;
  r.name = "cpus";
  r.role = "eng";
  r.type = value_type::set;
  r.items = {"x"};
  CHECK(!a.add(r));
  CHECK_EQUAL(a.to_string(), "cpus:2");
  resource_set other;
  REQUIRE(other.add(r));
  a += other; // the mismatching entry is ignored
  CHECK_EQUAL(a.to_string(), "cpus:2");
  CHECK(!a.contains(other));
  a -= other;
  CHECK_EQUAL(a.to_string(), "cpus:2");
  CHECK_EQUAL(a.validate(), "");
}

TEST(add rejects bad values) {
  resource_set s;
  resource r;
  r.name = "cpus";
  r.scalar = -5;
  CHECK(!s.add(r));
  r.scalar = max_scalar_milli + 1;
  CHECK(!s.add(r));
  r.scalar = 1000;
  r.name = "";
  CHECK(!s.add(r));
  r.name = "cpus";
  r.role = "";
  CHECK(!s.add(r));
  r.role = "a b";
  CHECK(!s.add(r));
  r.role = "*";
  r.type = value_type::ranges;
  r.ranges = {{5, 3}};
  CHECK(!s.add(r));
  r.type = value_type::set;
  r.items = {"ok", "not ok"};
  CHECK(!s.add(r));
  CHECK(s.empty());
  // Unnormalized ranges are normalized on add.
  r.type = value_type::ranges;
  r.ranges = {{10, 12}, {1, 3}, {4, 4}};
  CHECK(s.add(r));
  CHECK_EQUAL(s.to_string(), "cpus:[1-4,10-12]");
  // add() keeps the set's invariant only; validate() also applies the well-known resources' rule.
  CHECK_NOT_EQUAL(s.validate().find("'cpus' must be a scalar"), std::string::npos);
  s = resource_set{};
  r.name = "slots";
  CHECK(s.add(r));
  CHECK_EQUAL(s.validate(), "");
}

TEST(convenience constructors) {
  CHECK_EQUAL(resource_set::scalar("cpus", 1.5).to_string(), "cpus:1.5");
  CHECK_EQUAL(resource_set::scalar("cpus", 1.5, "eng").to_string(), "cpus(eng):1.5");
  CHECK(resource_set::scalar("cpus", -1).empty());
  CHECK(resource_set::scalar("cpus", std::nan("")).empty());
  CHECK(resource_set::scalar("bad name", 1).empty());
  CHECK_EQUAL(resource_set::range("ports", 1, 5).to_string(), "ports:[1-5]");
  CHECK(resource_set::range("ports", 5, 1).empty());
  CHECK_EQUAL(resource_set::set("zones", {"b", "a"}).to_string(), "zones:{a,b}");
}

TEST(fixed point does not drift) {
  resource_set sum;
  auto tenth = resource_set::scalar("cpus", 0.1);
  for (int i = 0; i < 10000; ++i)
    sum += tenth;
  CHECK_EQUAL(sum.scalar_milli("cpus"), 1000 * 1000);
  CHECK_EQUAL(sum.scalar_value("cpus"), 1000.0);
  CHECK_EQUAL(sum.to_string(), "cpus:1000");
  for (int i = 0; i < 10000; ++i)
    sum -= tenth;
  CHECK(sum.empty());
}

TEST(scalar sums saturate at the limit) {
  auto big = parse_ok("mem:" + std::to_string(max_scalar_milli / 1000));
  auto s = big + big;
  CHECK_EQUAL(s.scalar_milli("mem"), max_scalar_milli);
  CHECK_EQUAL(s.validate(), "");
}

// --- validation of wire values ----------------------------------------------------------------------------

namespace {

// Builds a resource_set with arbitrary (possibly invalid) entries, as a deserializer could.
resource_set raw(std::vector<resource> entries) {
  resource_set s;
  std::vector<char> buf;
  caf::binary_serializer sink(nullptr, buf);
  auto err = sink(entries);
  REQUIRE(!err);
  caf::binary_deserializer source(nullptr, buf);
  err = source(s);
  REQUIRE(!err);
  return s;
}

resource scalar_entry(std::string name, std::string role, milli v) {
  resource r;
  r.name = std::move(name);
  r.role = std::move(role);
  r.scalar = v;
  return r;
}

} // namespace

TEST(validate catches broken wire values) {
  CHECK_EQUAL(resource_set{}.validate(), "");
  CHECK_EQUAL(raw({scalar_entry("cpus", "*", 1000), scalar_entry("mem", "*", 5)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("mem", "*", 1), scalar_entry("cpus", "*", 1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cpus", "*", 1), scalar_entry("cpus", "*", 1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cpus", "*", -1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cpus", "*", 0)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cpus", "*", max_scalar_milli + 1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("", "*", 1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cp;us", "*", 1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cpus", "", 1)}).validate(), "");
  CHECK_NOT_EQUAL(raw({scalar_entry("cpus", "e)g", 1)}).validate(), "");
  auto r = scalar_entry("ports", "*", 0);
  r.type = value_type::ranges;
  r.ranges = {{5, 3}};
  CHECK_NOT_EQUAL(raw({r}).validate(), "");
  r.ranges = {{5, 9}, {1, 2}};
  CHECK_NOT_EQUAL(raw({r}).validate(), "");
  r.ranges = {{1, 2}, {3, 4}}; // adjacent, not merged
  CHECK_NOT_EQUAL(raw({r}).validate(), "");
  r.ranges = {};
  CHECK_NOT_EQUAL(raw({r}).validate(), "");
  r.ranges = {{1, 2}, {4, 5}};
  CHECK_EQUAL(raw({r}).validate(), "");
  r.scalar = 7; // stray scalar on a range entry: the binary form carries only the value of the entry's type
  CHECK_EQUAL(raw({r}).validate(), "");
  CHECK_EQUAL(raw({r}).items()[0].scalar, 0);
  auto s = scalar_entry("zones", "*", 0);
  s.type = value_type::set;
  s.items = {"a", "b c"};
  CHECK_NOT_EQUAL(raw({s}).validate(), "");
  auto t = scalar_entry("cpus", "*", 1);
  auto u = scalar_entry("cpus", "eng", 0);
  u.type = value_type::set;
  u.items = {"a"};
  CHECK_NOT_EQUAL(raw({t, u}).validate(), "");
}

TEST(the binary form carries only what the entry uses and refuses unknown flags) {
  auto encode = [](resource r) {
    std::vector<char> buf;
    caf::binary_serializer sink(nullptr, buf);
    REQUIRE(!sink(r));
    return buf;
  };
  auto decode = [](const std::vector<char>& buf, resource& out) {
    caf::binary_deserializer source(nullptr, buf);
    return source(out);
  };
  // flags (1) + name (1 + 4) + role (1 + 1) + scalar (8).
  auto cpus = encode(scalar_entry("cpus", "*", 1500));
  CHECK_EQUAL(cpus.size(), 16u);
  resource back;
  REQUIRE(!decode(cpus, back));
  CHECK(back == scalar_entry("cpus", "*", 1500));
  // Volumes, dynamic reservations, ranges and sets come back whole.
  auto all = parse_ok("disk(eng,dynamic)[vol1:data]:100;ports(eng):[1-5,7-9];zones:{a,b}");
  for (const auto& r : all.items()) {
    resource copy;
    REQUIRE(!decode(encode(r), copy));
    CHECK(copy == r);
  }
  // Decoding into a used object leaves nothing of it behind.
  resource used = all.items()[0];
  REQUIRE(!decode(cpus, used));
  CHECK(used == scalar_entry("cpus", "*", 1500));
  // An unknown value type or flag bit is an error, not a guess.
  for (char flags : {char{0x03}, char{0x10}, char{-128}}) {
    auto bad = cpus;
    bad[0] = flags;
    resource x;
    auto err = decode(bad, x);
    CHECK(err);
  }
}

TEST(serialization round trip) {
  auto x = parse_ok("cpus:2.5;cpus(eng):1;mem:1024;ports:[31000-32000,33000-33005];zones:{a,b}");
  std::vector<char> buf;
  caf::binary_serializer sink(nullptr, buf);
  REQUIRE(!sink(x));
  CHECK(!buf.empty());
  resource_set y;
  caf::binary_deserializer source(nullptr, buf);
  REQUIRE(!source(y));
  CHECK_EQUAL(x, y);
  CHECK_EQUAL(y.validate(), "");
  CHECK_EQUAL(y.to_string(), x.to_string());
}

// --- randomized properties --------------------------------------------------------------------------------

TEST(randomized properties) {
  std::mt19937 gen(20240611);
  for (int iter = 0; iter < 3000; ++iter) {
    auto a = random_set(gen);
    auto b = random_set(gen);
    REQUIRE_EQUAL(a.validate(), "");
    REQUIRE_EQUAL(b.validate(), "");
    auto sum = a + b;
    CHECK_EQUAL(sum.validate(), "");
    CHECK_EQUAL(sum, b + a);
    CHECK(sum.contains(a));
    CHECK(sum.contains(b));
    // (a + b) - b lies between a - b and a (scalars give back a exactly, ranges and sets a \ b).
    CHECK((sum - b).contains(a - b));
    CHECK(a.contains(sum - b));
    CHECK_EQUAL(sum - a - b, resource_set{});
    // Adding back what was taken out of a superset restores it.
    CHECK_EQUAL((sum - b) + b, sum);
    auto diff = a - b;
    CHECK_EQUAL(diff.validate(), "");
    CHECK(no_negatives(diff));
    CHECK(a.contains(diff));
    // contains after adding.
    auto c = a;
    c += b;
    CHECK(c.contains(b));
    // Text round trip.
    auto text = sum.to_string();
    auto parsed = resource_set::parse(text);
    REQUIRE(parsed);
    CHECK_EQUAL(*parsed, sum);
    CHECK_EQUAL(parsed->to_string(), text);
    // Scalar-only sets: (a + b) - b == a exactly.
    resource_set sa, sb;
    for (const auto& r : a.items())
      if (r.type == value_type::scalar)
        sa.add(r);
    for (const auto& r : b.items())
      if (r.type == value_type::scalar)
        sb.add(r);
    CHECK_EQUAL((sa + sb) - sb, sa);
    CHECK_EQUAL(sa + sb, sb + sa);
    // with_role keeps every total.
    auto fw = sum.with_role("fw");
    CHECK_EQUAL(fw.validate(), "");
    CHECK_EQUAL(fw.scalar_milli("cpus"), sum.scalar_milli("cpus"));
    CHECK_EQUAL(sum.unreserved() + sum.reserved("eng") + sum.reserved("ops"), sum);
  }
}

TEST(randomized disjoint ranges subtract back) {
  std::mt19937 gen(7);
  for (int iter = 0; iter < 2000; ++iter) {
    // Two random port sets drawn from disjoint halves, so (a + b) - b == a must hold exactly.
    auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(gen); };
    resource_set a, b;
    for (int k = 0; k < 3; ++k) {
      auto x = pick(0, 480);
      a += resource_set::range("ports", x, x + pick(0, 19));
      auto y = pick(500, 980);
      b += resource_set::range("ports", y, y + pick(0, 19));
    }
    CHECK_EQUAL((a + b) - b, a);
    CHECK_EQUAL((a + b) - a, b);
    CHECK((a + b).contains(a));
    CHECK(!a.contains(b));
  }
}

// --- reservations, volumes, roles -------------------------------------------------------------------------

TEST(dynamic reservations and volumes parse and print) {
  auto r = parse_ok("cpus(eng):1;cpus(eng,dynamic):2;cpus:3;disk(eng,dynamic)[vol1:data]:100;"
                    "disk(eng , dynamic):50;disk(eng/prod)[v2:a/b]:7");
  CHECK_EQUAL(r.to_string(), "cpus:3;cpus(eng):1;cpus(eng,dynamic):2;disk(eng,dynamic):50;"
                             "disk(eng,dynamic)[vol1:data]:100;disk(eng/prod)[v2:a/b]:7");
  CHECK_EQUAL(parse_ok(r.to_string()), r);
  CHECK_EQUAL(r.validate(), "");
  CHECK_EQUAL(r.scalar_milli("cpus"), 6000);
  CHECK_EQUAL(r.scalar_milli("disk"), 157000);
  const auto* vol = r.find("disk", "eng/prod");
  REQUIRE(vol != nullptr);
  CHECK_EQUAL(vol->volume_id, "v2");
  CHECK_EQUAL(vol->volume_path, "a/b");
  CHECK(r.has_volume("vol1"));
  CHECK(!r.has_volume("data"));
  CHECK_EQUAL(r.volumes().to_string(), "disk(eng,dynamic)[vol1:data]:100;disk(eng/prod)[v2:a/b]:7");
  // Static and dynamic reservations are different pools; so is every volume.
  CHECK(!parse_ok("cpus(eng):3").contains(parse_ok("cpus(eng,dynamic):1")));
  CHECK(!parse_ok("disk(eng,dynamic):100").contains(parse_ok("disk(eng,dynamic)[v:d]:1")));
  CHECK(!parse_ok("disk(eng,dynamic)[v:d]:100").contains(parse_ok("disk(eng,dynamic)[w:d]:1")));
  CHECK(parse_ok("disk(eng,dynamic)[v:d]:100").contains(parse_ok("disk(eng,dynamic)[v:d]:100")));
}

TEST(bad reservation and volume text is refused) {
  CHECK(mentions(parse_err("cpus(eng,static):1"), "reservation kind"));
  CHECK(mentions(parse_err("cpus(*,dynamic):1"), "unreserved"));
  CHECK(mentions(parse_err("cpus(eng)[v:d]:1"), "only disk"));
  CHECK(mentions(parse_err("disk[v:d]:1"), "reserved disk"));
  CHECK(mentions(parse_err("disk(eng)[v:../x]:1"), "volume path"));
  CHECK(mentions(parse_err("disk(eng)[v:/abs]:1"), "volume path"));
  CHECK(mentions(parse_err("disk(eng)[v:]:1"), "volume"));
  CHECK(mentions(parse_err("disk(eng)[v/w:d]:1"), "volume ID"));
  CHECK(mentions(parse_err("disk(eng)[vd]:1"), "[id:path]"));
  CHECK(mentions(parse_err("disk(eng)[v:d:1"), "unterminated"));
  CHECK(mentions(parse_err("disk(eng)[v:d]:[1-2]"), "scalar"));
  // Role paths.
  for (auto bad : {"eng/", "/eng", "eng//prod", "..", "eng/../ops", ".", "-eng"})
    CHECK(mentions(parse_err("cpus(" + std::string(bad) + "):1"), "role"));
  // add() applies the same rules to values built in code.
  resource x;
  x.name = "cpus";
  x.scalar = 1000;
  x.dynamic = true; // on role "*"
  resource_set s;
  CHECK(!s.add(x));
  x.role = "eng";
  x.volume_id = "v";
  x.volume_path = "d";
  CHECK(!s.add(x)); // a cpus volume
  CHECK(s.empty());
}

TEST(validate catches broken metadata from the wire) {
  auto broken = [](auto mutate) {
    auto item = parse_ok("disk(eng,dynamic)[v:d]:5").items().front();
    mutate(item);
    return raw({item}).validate();
  };
  CHECK_EQUAL(broken([](resource&) {}), "");
  CHECK(mentions(broken([](resource& r) { r.volume_path = "../../etc"; }), "volume path"));
  CHECK(mentions(broken([](resource& r) { r.volume_path.clear(); }), "both"));
  CHECK(mentions(broken([](resource& r) { r.role = "*"; r.dynamic = false; }), "reserved disk"));
  CHECK(mentions(broken([](resource& r) { r.role = "*"; r.volume_id.clear(); r.volume_path.clear(); }),
                 "dynamic"));
  CHECK(mentions(broken([](resource& r) { r.name = "mem"; }), "only disk"));
}

TEST(role names and ancestry) {
  for (auto ok : {"*", "eng", "eng/prod", "a.b/c-d/e_f", "x"})
    CHECK(valid_role_name(ok));
  for (auto bad : {"", "eng/", "/eng", "a//b", "..", "a/./b", "a/../b", "-x", "a b", "**"})
    CHECK(!valid_role_name(bad));
  CHECK(is_role_or_ancestor("eng", "eng"));
  CHECK(is_role_or_ancestor("eng", "eng/prod"));
  CHECK(is_role_or_ancestor("eng/prod", "eng/prod/web"));
  CHECK(!is_role_or_ancestor("eng", "engineering"));
  CHECK(!is_role_or_ancestor("eng/prod", "eng"));
  CHECK(!is_role_or_ancestor("*", "eng"));
  CHECK(!is_role_or_ancestor("*", "*"));
  CHECK(!is_role_or_ancestor("ops", "eng/ops"));
  CHECK(valid_volume_path("data"));
  CHECK(valid_volume_path("a/b.c"));
  for (auto bad : {"", "/data", "data/", "../x", "a/../b", ".", "a//b"})
    CHECK(!valid_volume_path(bad));
}

TEST(allocatable_to offers reservations to their role and its sub-roles only) {
  auto r = parse_ok("cpus:1;cpus(eng):2;cpus(eng/prod,dynamic):4;cpus(ops):8;cpus(engineering):16");
  CHECK_EQUAL(r.allocatable_to("eng").scalar_milli("cpus"), 3000);
  CHECK_EQUAL(r.allocatable_to("eng/prod").scalar_milli("cpus"), 7000);
  CHECK_EQUAL(r.allocatable_to("eng/prod/web").scalar_milli("cpus"), 7000);
  CHECK_EQUAL(r.allocatable_to("ops").scalar_milli("cpus"), 9000);
  CHECK_EQUAL(r.allocatable_to("*").scalar_milli("cpus"), 1000);
  CHECK_EQUAL(r.allocatable_to("dev").to_string(), "cpus:1");
  CHECK_EQUAL(r.reserved_part().scalar_milli("cpus"), 30000);
  CHECK_EQUAL(r.reserved_part() + r.unreserved(), r);
}

TEST(quantity form and volume removal) {
  auto r = parse_ok("cpus(eng,dynamic):2;cpus:1;disk(eng,dynamic)[v:d]:10;disk(eng,dynamic):5;disk(ops):3");
  CHECK_EQUAL(r.with_role("*").to_string(), "cpus:3;disk:18");
  CHECK_EQUAL(r.without_volumes().to_string(), "cpus:1;cpus(eng,dynamic):2;disk(eng,dynamic):15;disk(ops):3");
  CHECK_EQUAL(r.without_volumes().validate(), "");
  CHECK_EQUAL(r.volumes().without_volumes().to_string(), "disk(eng,dynamic):10");
}

TEST(well known resources must have their value type) {
  for (auto text : {"ports:{1}", "cpus:[1-2]", "mem:{a}", "disk:[1-3]", "gpus:{0,1}", "ports:5", "cpus(eng):{a}"}) {
    auto err = parse_err(text);
    MESSAGE(text << ": " << err);
    CHECK(mentions(err, "must be a"));
  }
  CHECK(mentions(parse_err("cpus:0.1;mem:32;ports:{1}"), "'ports' must be a range list such as ports:[31000-32000], not a set"));
  CHECK(mentions(parse_err("cpus:[1-2]"), "'cpus' must be a scalar such as cpus:2, not a range list"));
  // Other names take any type.
  CHECK_EQUAL(parse_ok("slots:[1-2];zones:{a};bananas:3").to_string(), "bananas:3;slots:[1-2];zones:{a}");
  CHECK(known_value_type("gpus") == value_type::scalar);
  CHECK(known_value_type("ports") == value_type::ranges);
  CHECK(!known_value_type("zones"));
}

TEST(ports lie within 0 to 65535) {
  CHECK(mentions(parse_err("cpus:0.1;mem:32;ports:[0-70000]"), "ports must lie within 0-65535, not 0-70000"));
  CHECK(mentions(parse_err("ports:[65536]"), "65536"));
  CHECK(mentions(parse_err("ports(eng):[31000-32000,65530-65536]"), "65530-65536"));
  CHECK_EQUAL(parse_ok("ports:[0-65535]").to_string(), "ports:[0-65535]");
}

TEST(validate applies the well known resources rule to values from outside) {
  auto p = scalar_entry("ports", "*", 0);
  p.type = value_type::ranges;
  p.ranges = {{31000, 70000}};
  CHECK(mentions(raw({p}).validate(), "ports must lie within 0-65535"));
  auto c = scalar_entry("cpus", "*", 0);
  c.type = value_type::set;
  c.items = {"a"};
  CHECK(mentions(raw({c}).validate(), "'cpus' must be a scalar"));
  p.ranges = {{31000, 32000}};
  CHECK_EQUAL(raw({p}).validate(), "");
}
