// Who may do what (config/support/acls.hpp), HTTP credentials (config/support/credentials.hpp) and the files of
// mutual TLS (config/support/certificates.hpp, actors/tls.hpp): pure logic and real PEM files.
#define CAF_SUITE config_access
#include "test.hpp"

#include "child_process.hpp"

#include "actors/tls.hpp"
#include "config/support/acls.hpp"
#include "config/support/certificates.hpp"
#include "config/support/credentials.hpp"

#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <string>

using namespace mesoscaf;

namespace {

acl_set parsed(const std::string& text) {
  acl_set out;
  auto err = acl_set::parse(text, out);
  if (!err.empty())
    CAF_FAIL("ACLs refused: " << err);
  return out;
}

std::string refusal(const std::string& text) {
  acl_set out;
  return acl_set::parse(text, out);
}

const std::optional<std::string> anonymous;

std::optional<std::string> who(const char* p) {
  return std::string{p};
}

} // namespace

TEST(without ACLs everything is allowed) {
  acl_set none;
  CHECK(!none.configured());
  CHECK(none.authorized(acl_action::update_weights, anonymous, "eng"));
  CHECK(none.authorized(acl_action::register_agents, who("x"), ""));
}

TEST(the first matching rule decides and permissive decides the rest) {
  auto acls = parsed(R"({
    "permissive": false,
    "update_weights": [
      {"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
      {"principals": {"values": ["eng-lead"]}, "roles": {"values": ["eng"]}},
      {"principals": {"type": "ANY"}, "roles": {"values": ["public"]}}
    ],
    "register_frameworks": [
      {"principals": {"values": ["etl"]}, "roles": {"type": "NONE"}},
      {"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}
    ]
  })");
  CHECK(acls.configured());
  CHECK(acls.authorized(acl_action::update_weights, who("ops"), "eng"));
  CHECK(acls.authorized(acl_action::update_weights, who("eng-lead"), "eng"));
  CHECK(!acls.authorized(acl_action::update_weights, who("eng-lead"), "ops"));
  CHECK(acls.authorized(acl_action::update_weights, who("anyone"), "public"));
  CHECK(acls.authorized(acl_action::update_weights, anonymous, "public"));
  // No rule matches: not permissive.
  CHECK(!acls.authorized(acl_action::update_weights, who("anyone"), "eng"));
  CHECK(!acls.authorized(acl_action::update_weights, anonymous, "eng"));
  // NONE as the object: this principal may register no role at all; others may.
  CHECK(!acls.authorized(acl_action::register_frameworks, who("etl"), "*"));
  CHECK(acls.authorized(acl_action::register_frameworks, who("web"), "*"));
  // An action without rules: permissive (false) decides.
  CHECK(!acls.authorized(acl_action::teardown_frameworks, who("ops"), "etl"));
}

TEST(a request without a principal matches only ANY and NONE) {
  auto acls = parsed(R"({"run_tasks": [{"principals": {"values": ["etl"]}, "users": {"values": ["nobody"]}},
                                       {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}]})");
  CHECK(acls.authorized(acl_action::run_tasks, who("etl"), "nobody"));
  CHECK(!acls.authorized(acl_action::run_tasks, who("etl"), "root"));
  CHECK(!acls.authorized(acl_action::run_tasks, anonymous, "nobody"));
  CHECK(!acls.authorized(acl_action::run_tasks, who("other"), "nobody"));
}

TEST(the operator actions on agents are read with their objects) {
  auto acls = parsed(R"({"permissive": false,
    "reserve_resources": [{"principals": {"values": ["ops"]}, "roles": {"values": ["eng"]}}],
    "unreserve_resources": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}],
    "create_volumes": [{"principals": {"type": "ANY"}, "roles": {"values": ["eng"]}}],
    "destroy_volumes": [{"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}],
    "mark_agents_gone": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}]})");
  CHECK(acls.authorized(acl_action::reserve_resources, who("ops"), "eng"));
  CHECK(!acls.authorized(acl_action::reserve_resources, who("ops"), "dev"));
  CHECK(!acls.authorized(acl_action::reserve_resources, who("dev"), "eng"));
  CHECK(acls.authorized(acl_action::unreserve_resources, who("ops"), "dev"));
  CHECK(acls.authorized(acl_action::create_volumes, anonymous, "eng"));
  CHECK(!acls.authorized(acl_action::destroy_volumes, who("ops"), "eng"));
  CHECK(acls.authorized(acl_action::mark_agents_gone, who("ops"), "agent-1"));
  CHECK(!acls.authorized(acl_action::mark_agents_gone, who("dev"), "agent-1"));
  CHECK_EQUAL(std::string{acl_object_name(acl_action::mark_agents_gone)}, "agents");
  CHECK(refusal(R"({"mark_agents_gone": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]})")
          .find("agents") != std::string::npos);
}

TEST(ACL files that are wrong are refused with what is wrong) {
  CHECK_NOT_EQUAL(refusal("{"), "");
  CHECK_NOT_EQUAL(refusal("[]"), "");
  CHECK(refusal(R"({"update_weight": []})").find("unknown key \"update_weight\"") != std::string::npos);
  CHECK(refusal(R"({"permissive": "no"})").find("permissive") != std::string::npos);
  CHECK(refusal(R"({"update_weights": {}})").find("array") != std::string::npos);
  CHECK(refusal(R"({"update_weights": [{"principals": {"type": "ANY"}}]})").find("roles") != std::string::npos);
  CHECK(refusal(R"({"update_weights": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]})")
          .find("unknown key \"users\"")
        != std::string::npos);
  CHECK(refusal(R"({"update_weights": [{"principals": {"type": "SOME"}, "roles": {"type": "ANY"}}]})")
          .find("ANY") != std::string::npos);
  CHECK(refusal(R"({"update_weights": [{"principals": {"values": []}, "roles": {"type": "ANY"}}]})")
          .find("non-empty") != std::string::npos);
  CHECK(refusal(R"({"update_weights": [{"principals": {"values": [1]}, "roles": {"type": "ANY"}}]})")
          .find("strings") != std::string::npos);
  CHECK(refusal(R"({"update_weights": [{"principals": {"type": "ANY", "values": ["a"]}, "roles": {"type": "ANY"}}]})")
          .find("exactly one") != std::string::npos);
  // A refused file changes nothing.
  auto acls = parsed(R"({"permissive": false})");
  CHECK_NOT_EQUAL(acl_set::parse("{", acls), "");
  CHECK(acls.configured());
  CHECK(!acls.authorized(acl_action::view_state, who("x"), "tasks"));
}

TEST(HTTP credentials authenticate Basic and Bearer and nothing else) {
  credential_set creds;
  REQUIRE_EQUAL(credential_set::parse(R"({"credentials": [{"principal": "ops", "secret": "s3cret-ops"},
                                                          {"principal": "view", "secret": "s3cret-view"}]})",
                                      creds),
                "");
  CHECK(creds.configured());
  // base64("ops:s3cret-ops") and base64("view:s3cret-view")
  CHECK(creds.authenticate("Basic b3BzOnMzY3JldC1vcHM=") == who("ops"));
  CHECK(creds.authenticate("Basic dmlldzpzM2NyZXQtdmlldw==") == who("view"));
  CHECK(creds.authenticate("Bearer s3cret-view") == who("view"));
  // Wrong secret (base64("ops:s3cret-view")), unknown principal, malformed, other schemes.
  CHECK(creds.authenticate("Basic b3BzOnMzY3JldC12aWV3") == anonymous);
  CHECK(creds.authenticate("Basic bm9ib2R5OnMzY3JldC1vcHM=") == anonymous);
  CHECK(creds.authenticate("Basic !!!!") == anonymous);
  CHECK(creds.authenticate("Basic ") == anonymous);
  CHECK(creds.authenticate("Bearer wrong") == anonymous);
  CHECK(creds.authenticate("Digest ops") == anonymous);
  CHECK(creds.authenticate("") == anonymous);
  CHECK(creds.authenticate("Basic " + std::string(10000, 'A')) == anonymous);
}

TEST(credential files that are wrong are refused) {
  credential_set creds;
  CHECK_NOT_EQUAL(credential_set::parse("{}", creds), "");
  CHECK_NOT_EQUAL(credential_set::parse(R"({"credentials": [{"principal": "a"}]})", creds), "");
  CHECK_NOT_EQUAL(credential_set::parse(R"({"credentials": [{"principal": "a:b", "secret": "12345678"}]})", creds),
                  "");
  CHECK_NOT_EQUAL(credential_set::parse(R"({"credentials": [{"principal": "a", "secret": "short"}]})", creds), "");
  CHECK_NOT_EQUAL(credential_set::parse(R"({"credentials": [{"principal": "a", "secret": "12345678"},
                                                            {"principal": "a", "secret": "87654321"}]})",
                                        creds),
                  "");
  CHECK(!creds.configured());
}

TEST(certs writes a CA and certificates whose principal is their common name) {
  mesoscaf::test::temp_dir dir{"mesoscaf-certs"};
  REQUIRE_EQUAL(create_ca(dir.path(), "test CA", 30), "");
  // A second CA in the same place would overwrite the first: refused.
  CHECK_NOT_EQUAL(create_ca(dir.path(), "test CA", 30), "");
  REQUIRE_EQUAL(create_certificate(dir.path(), dir / "ca.pem", dir / "ca-key.pem",
                                   {"agent-1", "agent", {"127.0.0.1", "node1.example"}, 30}),
                "");
  CHECK_NOT_EQUAL(create_certificate(dir.path(), dir / "ca.pem", dir / "ca-key.pem", {"agent-1", "", {}, 30}), "");
  CHECK_EQUAL(certificate_principal(dir / "agent-1.pem"), "agent");
  // Keys are for the owner only.
  struct stat st {};
  REQUIRE_EQUAL(::stat((dir / "agent-1-key.pem").c_str(), &st), 0);
  CHECK_EQUAL(st.st_mode & 0777, 0600u);
  REQUIRE_EQUAL(::stat((dir / "ca-key.pem").c_str(), &st), 0);
  CHECK_EQUAL(st.st_mode & 0777, 0600u);
  // The files fit together: checked as a daemon checks its flags.
  CHECK_EQUAL(check_tls_files({dir / "agent-1.pem", dir / "agent-1-key.pem", dir / "ca.pem"}), "");
  // Bad names never become file names or principals.
  CHECK_NOT_EQUAL(create_certificate(dir.path(), dir / "ca.pem", dir / "ca-key.pem", {"../evil", "", {}, 30}), "");
  CHECK_NOT_EQUAL(create_certificate(dir.path(), dir / "ca.pem", dir / "ca-key.pem", {"ok", "a b", {}, 30}), "");
}

TEST(TLS files that do not fit together are refused with the file named) {
  mesoscaf::test::temp_dir one{"mesoscaf-ca1"};
  mesoscaf::test::temp_dir two{"mesoscaf-ca2"};
  REQUIRE_EQUAL(create_ca(one.path(), "one", 30), "");
  REQUIRE_EQUAL(create_ca(two.path(), "two", 30), "");
  REQUIRE_EQUAL(create_certificate(one.path(), one / "ca.pem", one / "ca-key.pem", {"a", "", {}, 30}), "");
  REQUIRE_EQUAL(create_certificate(one.path(), one / "ca.pem", one / "ca-key.pem", {"b", "", {}, 30}), "");
  // Signed by another CA.
  auto err = check_tls_files({one / "a.pem", one / "a-key.pem", two / "ca.pem"});
  CHECK(err.find("is not signed by the CA") != std::string::npos);
  // Another certificate's key.
  err = check_tls_files({one / "a.pem", one / "b-key.pem", one / "ca.pem"});
  CHECK(err.find("does not belong to the certificate") != std::string::npos);
  // Missing and unreadable files; an incomplete set.
  err = check_tls_files({one / "missing.pem", one / "a-key.pem", one / "ca.pem"});
  CHECK(err.find("missing.pem") != std::string::npos);
  { std::ofstream{one / "junk.pem"} << "not a certificate"; }
  err = check_tls_files({one / "a.pem", one / "junk.pem", one / "ca.pem"});
  CHECK(err.find("junk.pem") != std::string::npos);
  CHECK_NOT_EQUAL(check_tls_files({one / "a.pem", "", one / "ca.pem"}), "");
}
