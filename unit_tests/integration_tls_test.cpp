// Integration: a cluster on mutual TLS with principals, ACLs and HTTP credentials (issue 17), as an operator sets
// it up (`mesoscaf certs`, `--tls-*`, `--acls`, `--credentials`) and as attackers try it: peers without a
// certificate from the cluster's CA, a fake agent, a framework takeover by another principal, unauthorized
// weights, quota, teardown and tasks, over actor messages and over HTTP. Real processes on loopback, bounded waits.
#define CAF_SUITE integration_tls
#include "test.hpp"

#include "child_process.hpp"
#include "http_test_client.hpp"
#include "process_scan.hpp"
#include "test_helpers.hpp"
#include "zookeeper_server.hpp"

#include "actors/interfaces.hpp"
#include "actors/tls.hpp"
#include "apps/mesoscaf/http_client.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace mesoscaf::test;
using namespace std::chrono;
using json = nlohmann::json;

namespace {

const std::string bin = MESOSCAF_BINARY;

// base64 of "ops:ops-secret-1" and "viewer:viewer-secret".
const std::string as_ops = "Basic b3BzOm9wcy1zZWNyZXQtMQ==";
const std::string as_viewer = "Basic dmlld2VyOnZpZXdlci1zZWNyZXQ=";
const std::string anonymous;

struct reply {
  int status = 0;
  std::string body;
  std::string www_authenticate;
};

/// A request over HTTPS with the product's client (the CLI's): the server must present a certificate of the CA
/// in `ca`; `client_cert` (a name in the same directory, or empty) is presented; `authorization` is sent if set.
reply https(const std::string& method, const std::string& endpoint, const std::string& target, const std::string& body,
            const std::string& authorization, const std::string& certs, const std::string& client_cert = {}) {
  mesoscaf::use_http_client_tls(client_cert.empty() ? "" : certs + "/" + client_cert + ".pem",
                                client_cert.empty() ? "" : certs + "/" + client_cert + "-key.pem", certs + "/ca.pem");
  mesoscaf::use_http_client_authorization(authorization);
  mesoscaf::http_request req;
  req.method = method;
  auto colon = endpoint.rfind(':');
  req.host = endpoint.substr(0, colon);
  req.port = static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1)));
  req.target = target;
  req.body = body;
  req.content_type = body.empty() ? "" : (body[0] == '[' || body[0] == '{' ? "application/json"
                                                                          : "application/x-www-form-urlencoded");
  mesoscaf::http_response res;
  reply out;
  if (auto err = mesoscaf::send_http(req, res); !err.empty()) {
    out.body = err;
    return out;
  }
  out.status = res.status;
  out.body = res.body;
  out.www_authenticate = res.header("WWW-Authenticate");
  return out;
}

void run_ok(const std::vector<std::string>& argv, const std::string& log) {
  auto r = run_to_completion(argv, log, seconds(60));
  if (r.exit_code != 0)
    CAF_FAIL(argv[1] << " " << argv[2] << " failed: " << r.output);
}

/// What an operator makes with `mesoscaf certs`: one CA, a certificate per node and framework (in dir/certs), and
/// another CA's certificate claiming the agent principal (in dir/rogue).
void make_certificates(const temp_dir& dir) {
  auto certs = dir / "certs";
  run_ok({bin, "certs", "create-ca", "--dir=" + certs}, dir / "certs.log");
  for (auto [name, principal] : std::vector<std::pair<std::string, std::string>>{
         {"master", "master"}, {"agent-1", "agent"}, {"etl", "etl"}, {"intruder", "intruder"}, {"ops", "ops"}})
    run_ok({bin, "certs", "create", "--dir=" + certs, "--name=" + name, "--principal=" + principal,
            "--hosts=127.0.0.1"},
           dir / "certs.log");
  run_ok({bin, "certs", "create-ca", "--dir=" + dir / "rogue"}, dir / "certs.log");
  run_ok({bin, "certs", "create", "--dir=" + dir / "rogue", "--name=rogue", "--principal=agent"}, dir / "certs.log");
}

/// The actor system of a framework or operator program with the certificate `name` from `dir`.
struct tls_program_config : threaded_config {
  tls_program_config(const temp_dir& dir, const std::string& name) : threaded_config(true) {
    mesoscaf::use_tls(*this, {dir / ("certs/" + name + ".pem"), dir / ("certs/" + name + "-key.pem"),
                              dir / "certs/ca.pem"});
  }
};

struct fixture {
  temp_dir dir{"mesoscaf-tls"};
  std::unique_ptr<child_process> master;
  std::unique_ptr<child_process> agent;
  std::string master_addr, master_http, agent_http;
  uint16_t master_port = 0;

  std::vector<std::string> tls(const std::string& name) const {
    return {"--tls-cert=" + dir / ("certs/" + name + ".pem"), "--tls-key=" + dir / ("certs/" + name + "-key.pem"),
            "--tls-ca=" + dir / "certs/ca.pem"};
  }

  static std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  fixture() {
    make_certificates(dir);
    std::ofstream{dir / "acls.json"} << R"({
      "permissive": false,
      "register_agents": [{"principals": {"values": ["agent"]}, "agents": {"type": "ANY"}}],
      "register_frameworks": [{"principals": {"values": ["etl", "intruder"]}, "roles": {"type": "ANY"}}],
      "run_tasks": [{"principals": {"values": ["etl"]}, "users": {"type": "ANY"}}],
      "update_weights": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}],
      "update_quotas": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}],
      "teardown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
      "view_state": [{"principals": {"values": ["viewer", "ops", "etl"]}, "objects": {"type": "ANY"}}]
    })";
    std::ofstream{dir / "credentials.json"} << R"({"credentials": [
      {"principal": "ops", "secret": "ops-secret-1"}, {"principal": "viewer", "secret": "viewer-secret"}]})";
    master = std::make_unique<child_process>(
      with({bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / "master", "--acls=" + dir / "acls.json",
            "--credentials=" + dir / "credentials.json"},
           tls("master")),
      dir / "master.log");
    auto m = master->wait_for_line("master listening on (127\\.0\\.0\\.1:([0-9]+))", seconds(60));
    REQUIRE(m);
    master_addr = (*m)[1];
    master_port = static_cast<uint16_t>(std::stoi((*m)[2]));
    auto mh = master->wait_for_line("master http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(mh);
    master_http = (*mh)[1];
    agent = std::make_unique<child_process>(
      with({bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0", "--work-dir=" + dir / "agent",
            "--resources=cpus:2;mem:1024;disk:1000", "--acls=" + dir / "acls.json"},
           tls("agent-1")),
      dir / "agent.log");
    auto ah = agent->wait_for_line("agent http listening on (127\\.0\\.0\\.1:[0-9]+)", seconds(60));
    REQUIRE(ah);
    agent_http = (*ah)[1];
    REQUIRE(agent->wait_for_line("agent registered with id", seconds(60)));
  }

  run_result execute(const std::vector<std::string>& extra, const std::string& name) {
    return run_to_completion(with({bin, "execute", "--master=" + master_addr, "--name=" + name,
                                   "--command=echo ran-over-tls", "--resources=cpus:0.1;mem:32", "--timeout=60s"},
                                  extra),
                             dir / (name + ".log"), seconds(90));
  }

  json master_get(const std::string& path) {
    auto r = https("GET", master_http, path, {}, as_viewer, dir / "certs");
    return json::parse(r.body, nullptr, false);
  }

  reply call(const std::string& method, const std::string& target, const std::string& body,
               const std::string& authorization, const std::string& client_cert = {}) {
    return https(method, master_http, target, body, authorization, dir / "certs", client_cert);
  }

  std::size_t agent_count() {
    auto j = master_get("/slaves");
    return j.is_object() ? j["slaves"].size() : 0u;
  }
};

/// A plain TCP connection to 127.0.0.1:`port` that sends a BASP header announcing almost 4 GiB: true if the peer
/// closed it within 10 s.
bool plaintext_header_is_closed(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return false;
  caf::io::basp::header hdr{caf::io::basp::message_type::direct_message, 0, 0xFFFFFF00u, 0, 0, 1};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (sink(hdr) || write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) {
    close(fd);
    return false;
  }
  auto deadline = steady_clock::now() + seconds(10);
  char scratch[4096];
  bool closed = false;
  while (!closed && steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0)
      closed = read(fd, scratch, sizeof(scratch)) <= 0;
  }
  close(fd);
  return closed;
}

/// An authenticated peer (a certificate of the cluster's CA) that completes TLS and then sends a BASP header
/// announcing almost 4 GiB: true if the daemon closed the connection within 10 s.
bool tls_header_is_closed(uint16_t port, const std::string& cert, const std::string& key, const std::string& ca) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1
      || SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1
      || SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1)
    return false;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return false;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{SSL_new(ctx.get()), SSL_free};
  SSL_set_fd(ssl.get(), fd);
  bool closed = false;
  if (SSL_connect(ssl.get()) == 1) {
    caf::io::basp::header hdr{caf::io::basp::message_type::direct_message, 0, 0xFFFFFF00u, 0, 0, 1};
    std::vector<char> buf;
    caf::binary_serializer sink{nullptr, buf};
    if (!sink(hdr) && SSL_write(ssl.get(), buf.data(), static_cast<int>(buf.size())) == static_cast<int>(buf.size())) {
      auto deadline = steady_clock::now() + seconds(10);
      char scratch[4096];
      while (!closed && steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0)
          closed = SSL_read(ssl.get(), scratch, sizeof(scratch)) <= 0;
      }
    }
  }
  close(fd);
  return closed;
}

} // namespace

FIXTURE_SCOPE(tls_tests, fixture)

TEST(a TLS cluster runs tasks and refuses peers without a certificate of its CA) {
  auto ok = execute(tls("etl"), "first");
  CHECK_EQUAL(ok.exit_code, 0);
  CHECK(ok.output.find("TASK_FINISHED") != std::string::npos);
  CHECK(ok.output.find("ran-over-tls") != std::string::npos);
  // No certificate: the TLS handshake fails before any BASP byte is read.
  auto plain = execute({}, "plain");
  CHECK_NOT_EQUAL(plain.exit_code, 0);
  CHECK(plain.output.find("cannot connect to master") != std::string::npos);
  // A certificate of another CA, even one naming the agent principal.
  // It trusts the cluster's CA too (a bundle), so the master is the one that must refuse it.
  {
    std::ofstream bundle{dir / "rogue/bundle.pem"};
    bundle << std::ifstream{dir / "rogue/ca.pem"}.rdbuf() << std::ifstream{dir / "certs/ca.pem"}.rdbuf();
  }
  auto rogue = execute({"--tls-cert=" + dir / "rogue/rogue.pem", "--tls-key=" + dir / "rogue/rogue-key.pem",
                        "--tls-ca=" + dir / "rogue/bundle.pem"},
                       "rogue");
  CHECK_NOT_EQUAL(rogue.exit_code, 0);
  CHECK(master->wait_for_line("refused a peer's certificate", seconds(10)));
  // A plaintext BASP header (announcing 4 GiB) never reaches BASP decoding: no size refusal is logged for it.
  CHECK(plaintext_header_is_closed(master_port));
  std::this_thread::sleep_for(seconds(1));
  CHECK(master->output().find("refused a message of") == std::string::npos);
  // A peer with a good certificate is bound by the size limit too: its 4 GiB header closes its connection.
  CHECK(tls_header_is_closed(master_port, dir / "certs/etl.pem", dir / "certs/etl-key.pem", dir / "certs/ca.pem"));
  CHECK(master->wait_for_line("refused a message of 4294967040 bytes from a peer", seconds(10)));
  // The refused peers cost the cluster nothing: the agent kept its connection, and tasks still run.
  CHECK(agent->output().find("lost the master") == std::string::npos);
  CHECK_EQUAL(agent_count(), 1u);
  auto again = execute(tls("etl"), "again");
  CHECK_EQUAL(again.exit_code, 0);
}

TEST(an agent needs a certificate whose principal may register agents) {
  // The framework's certificate is signed by the right CA, but its principal (etl) may not register agents.
  child_process fake{with({bin, "agent", "--master=" + master_addr, "--port=0", "--http-port=0",
                           "--work-dir=" + dir / "fake", "--resources=cpus:100000;mem:100000000"},
                          tls("etl")),
                     dir / "fake.log"};
  CHECK(master->wait_for_line("not authorized: principal 'etl' may not register_agents", seconds(30)));
  CHECK(!fake.wait_for_line("agent registered with id", seconds(2)));
  CHECK_EQUAL(agent_count(), 1u);
  // Tasks are not sent its way.
  CHECK_EQUAL(execute(tls("etl"), "after-fake").exit_code, 0);
}

TEST(a framework ID is taken over only by its own principal) {
  tls_program_config etl_cfg{dir, "etl"};
  caf::actor_system etl_sys{etl_cfg};
  auto m = mesoscaf::connect_actor<mesoscaf::master_actor>(etl_sys, "127.0.0.1", master_port);
  REQUIRE(m);
  caf::scoped_actor etl{etl_sys};
  mesoscaf::framework_info info;
  info.name = "long-running";
  info.user = "root";
  info.failover_timeout = 600;
  mesoscaf::framework_id fid;
  etl->request(*m, seconds(15), mesoscaf::atom::subscribe_v, info, caf::actor_cast<mesoscaf::scheduler_actor>(etl))
    .receive([&](const mesoscaf::framework_id& id) { fid = id; },
             [&](const caf::error& err) { CAF_FAIL("subscribe refused: " << etl_sys.render(err)); });
  REQUIRE(!fid.empty());
  // The intruder knows the ID (anyone may read it from the state) and subscribes with it.
  tls_program_config intruder_cfg{dir, "intruder"};
  caf::actor_system intruder_sys{intruder_cfg};
  auto m2 = mesoscaf::connect_actor<mesoscaf::master_actor>(intruder_sys, "127.0.0.1", master_port);
  REQUIRE(m2);
  caf::scoped_actor intruder{intruder_sys};
  auto takeover = info;
  takeover.id = fid;
  std::string refusal;
  intruder
    ->request(*m2, seconds(15), mesoscaf::atom::subscribe_v, takeover,
              caf::actor_cast<mesoscaf::scheduler_actor>(intruder))
    .receive([&](const mesoscaf::framework_id&) { refusal = "accepted"; },
             [&](const caf::error& err) { refusal = intruder_sys.render(err); });
  CHECK(refusal.find("belongs to another principal") != std::string::npos);
  // Declaring the victim's principal does not help: the certificate decides.
  takeover.principal = "etl";
  intruder
    ->request(*m2, seconds(15), mesoscaf::atom::subscribe_v, takeover,
              caf::actor_cast<mesoscaf::scheduler_actor>(intruder))
    .receive([&](const mesoscaf::framework_id&) { refusal = "accepted"; },
             [&](const caf::error& err) { refusal = intruder_sys.render(err); });
  CHECK(refusal.find("is not the authenticated principal 'intruder'") != std::string::npos);
  // The real scheduler was never replaced.
  bool replaced = false;
  etl->receive([&](mesoscaf::atom::replaced, const mesoscaf::framework_id&) { replaced = true; },
               caf::after(seconds(1)) >> [&] {});
  CHECK(!replaced);
  // The intruder cannot tear it down through the operator message either.
  bool known = false;
  intruder->request(*m2, seconds(15), mesoscaf::atom::teardown_v, fid, std::string{"intruder"})
    .receive([&](bool k) { known = k; }, [&](const caf::error& err) { refusal = intruder_sys.render(err); });
  CHECK(!known);
  CHECK(refusal.find("may not teardown_frameworks") != std::string::npos);
  // Its principal is its certificate's, though it declared none.
  auto fws = master_get("/frameworks");
  REQUIRE(fws.is_object());
  REQUIRE_EQUAL(fws["frameworks"].size(), 1u);
  CHECK_EQUAL(fws["frameworks"][0].value("principal", std::string{}), "etl");
}

TEST(weights quota and teardown need the ACL over actor messages and HTTP) {
  // Over actor messages: the principal of the sending node's certificate.
  auto set_weight = [&](const std::string& cert, double w) {
    tls_program_config cfg{dir, cert};
    caf::actor_system sys{cfg};
    auto m = mesoscaf::connect_actor<mesoscaf::master_actor>(sys, "127.0.0.1", master_port);
    if (!m)
      return "cannot connect: " + sys.render(m.error());
    caf::scoped_actor self{sys};
    std::string result;
    self->request(*m, seconds(15), mesoscaf::atom::set_weight_v, std::string{"eng"}, w)
      .receive([&](bool) { result = "ok"; }, [&](const caf::error& err) { result = sys.render(err); });
    return result;
  };
  CHECK(set_weight("intruder", 100).find("may not update_weights") != std::string::npos);
  CHECK_EQUAL(set_weight("ops", 3), "ok");
  // Over HTTP (HTTPS: plain HTTP gets no answer): anonymous requests must authenticate, a viewer may look but
  // not change, ops may change, with its password or its certificate.
  CHECK_EQUAL(http_get(master_http, "/health").status, 0);
  auto anon = call("PUT", "/weights", R"([{"role": "eng", "weight": 50}])", anonymous);
  CHECK_EQUAL(anon.status, 401);
  CHECK_EQUAL(anon.www_authenticate, "Basic realm=\"mesoscaf\"");
  auto wrong = call("PUT", "/weights", R"([{"role": "eng", "weight": 50}])", "Basic b3BzOndyb25n");
  CHECK_EQUAL(wrong.status, 401);
  auto viewer = call("PUT", "/weights", R"([{"role": "eng", "weight": 50}])", as_viewer);
  CHECK_EQUAL(viewer.status, 403);
  CHECK(viewer.body.find("may not update_weights") != std::string::npos);
  auto quota_by_viewer = call("POST", "/quota",
                              R"({"role": "eng", "guarantee": [{"name": "cpus", "type": "SCALAR",
                                  "scalar": {"value": 1}}]})",
                              as_viewer);
  CHECK_EQUAL(quota_by_viewer.status, 403);
  auto by_intruder_cert = call("PUT", "/weights", R"([{"role": "eng", "weight": 50}])", anonymous, "intruder");
  CHECK_EQUAL(by_intruder_cert.status, 403);
  auto by_ops_cert = call("PUT", "/weights", R"([{"role": "eng", "weight": 4}])", anonymous, "ops");
  CHECK_EQUAL(by_ops_cert.status, 200);
  auto ops = call("PUT", "/weights", R"([{"role": "eng", "weight": 2}])", as_ops);
  CHECK_EQUAL(ops.status, 200);
  auto weights = master_get("/weights");
  REQUIRE(weights.is_array());
  double eng = 0;
  for (auto& w : weights)
    if (w.value("role", std::string{}) == "eng")
      eng = w.value("weight", 0.0);
  CHECK_EQUAL(eng, 2.0);
  // The health check stays open for load balancers.
  CHECK_EQUAL(call("GET", "/health", {}, anonymous).status, 200);
  // Teardown over HTTP: a framework of etl, torn down by the viewer (refused) and by ops.
  child_process running{with({bin, "execute", "--master=" + master_addr, "--name=victim", "--command=sleep 300",
                              "--resources=cpus:0.1;mem:32"},
                             tls("etl")),
                        dir / "victim.log"};
  std::string fid;
  REQUIRE(eventually(
    [&] {
      auto fws = master_get("/frameworks");
      if (!fws.is_object() || fws["frameworks"].empty())
        return false;
      fid = fws["frameworks"][0].value("id", std::string{});
      return true;
    },
    seconds(60)));
  CHECK_EQUAL(call("POST", "/teardown", "frameworkId=" + fid, as_viewer).status, 403);
  // The operator CLI, as an operator runs it: HTTPS to the master, ops' credentials.
  std::ofstream{dir / "ops-credentials.json"} << R"({"credentials": [{"principal": "ops", "secret": "ops-secret-1"}]})";
  auto cli = run_to_completion(with({bin, "framework", "teardown", fid, "--master=" + master_http,
                                     "--credentials=" + dir / "ops-credentials.json", "--tls-ca=" + dir / "certs/ca.pem",
                                     "--tls-cert=" + dir / "certs/ops.pem", "--tls-key=" + dir / "certs/ops-key.pem"},
                                    {}),
                               dir / "cli.log", seconds(60));
  CHECK_EQUAL(cli.exit_code, 0);
  // The master removed it (its scheduler process is ended by the fixture).
  CHECK(eventually(
    [&] {
      auto fws = master_get("/frameworks");
      return fws.is_object() && fws["frameworks"].empty();
    },
    seconds(30)));
}

TEST(sandboxes and state are shown only to principals allowed to view them) {
  auto certs = dir / "certs";
  // Anonymous (no certificate, no credentials) and the intruder's certificate: refused (view_state).
  auto anon = https("GET", agent_http, "/files/browse?path=" + dir / "agent", {}, anonymous, certs);
  CHECK_EQUAL(anon.status, 403);
  CHECK(anon.body.find("may not view_state (objects 'sandboxes')") != std::string::npos);
  CHECK_EQUAL(https("GET", agent_http, "/state", {}, anonymous, certs, "intruder").status, 403);
  CHECK_EQUAL(https("GET", master_http, "/state", {}, anonymous, certs, "intruder").status, 403);
  // The framework's own certificate may look.
  CHECK_EQUAL(https("GET", agent_http, "/state", {}, anonymous, certs, "etl").status, 200);
  // (The path is the agent's work dir, not a sandbox: refused, but not by the ACL.)
  auto browse = https("GET", agent_http, "/files/browse?path=" + dir / "agent", {}, anonymous, certs, "etl");
  CHECK_NOT_EQUAL(browse.status, 0);
  CHECK(browse.body.find("may not view_state") == std::string::npos);
  CHECK_EQUAL(https("GET", master_http, "/state", {}, anonymous, certs, "etl").status, 200);
}

TEST(a framework may run tasks only as the users its principal is allowed) {
  // intruder may register frameworks but run_tasks allows only etl.
  auto refused = execute(tls("intruder"), "unauthorized");
  CHECK_NOT_EQUAL(refused.exit_code, 0);
  CHECK(refused.output.find("TASK_ERROR") != std::string::npos);
  CHECK(refused.output.find("REASON_TASK_UNAUTHORIZED") != std::string::npos);
  CHECK(refused.output.find("may not run tasks as user") != std::string::npos);
  CHECK(refused.output.find("ran-over-tls") == std::string::npos);
}

FIXTURE_SCOPE_END()

namespace {

std::vector<std::string> tls_flags(const temp_dir& dir, const std::string& name) {
  return {"--tls-cert=" + dir / ("certs/" + name + ".pem"), "--tls-key=" + dir / ("certs/" + name + "-key.pem"),
          "--tls-ca=" + dir / "certs/ca.pem"};
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

} // namespace

TEST(three TLS masters on ZooKeeper with credentials run tasks across a leader crash) {
  temp_dir dir{"mesoscaf-tls-ha"};
  make_certificates(dir);
  std::unique_ptr<zookeeper_server> zk;
  try {
    zk = std::make_unique<zookeeper_server>(1, dir / "zk");
  } catch (const std::exception& e) {
    CAF_FAIL("cannot start ZooKeeper: " << e.what());
  }
  auto url = "zk://mesoscaf:zk-secret-1@" + zk->servers() + "/mesoscaf";
  std::vector<std::unique_ptr<child_process>> masters;
  for (int i = 0; i < 3; ++i)
    masters.push_back(std::make_unique<child_process>(
      joined({bin, "master", "--port=0", "--http-port=0", "--work-dir=" + dir / ("master" + std::to_string(i)),
              "--zk=" + url, "--zk-session-timeout=2s"},
             tls_flags(dir, "master")),
      dir / ("master" + std::to_string(i) + ".log")));
  auto leader = [&]() -> int {
    for (size_t i = 0; i < masters.size(); ++i)
      if (masters[i] && masters[i]->running() && masters[i]->output().find("master elected leader at") != std::string::npos)
        return static_cast<int>(i);
    return -1;
  };
  REQUIRE(eventually([&] { return leader() >= 0; }, seconds(60)));
  child_process agent{joined({bin, "agent", "--master=" + url, "--zk-session-timeout=2s", "--port=0", "--http-port=0",
                              "--work-dir=" + dir / "agent", "--resources=cpus:2;mem:1024;disk:1000"},
                             tls_flags(dir, "agent-1")),
                      dir / "agent.log"};
  REQUIRE(agent.wait_for_line("agent registered with id", seconds(60)));
  auto execute = [&](const std::string& name) {
    return run_to_completion(joined({bin, "execute", "--master=" + url, "--name=" + name,
                                     "--command=echo ha-over-tls", "--resources=cpus:0.1;mem:32", "--timeout=90s"},
                                    tls_flags(dir, "etl")),
                             dir / (name + ".log"), seconds(120));
  };
  auto first = execute("before-crash");
  CHECK_EQUAL(first.exit_code, 0);
  CHECK(first.output.find("TASK_FINISHED") != std::string::npos);
  // The leader dies; another takes over, the agent re-registers with it over TLS, and tasks run again.
  auto old = leader();
  masters[static_cast<size_t>(old)]->signal(SIGKILL);
  masters[static_cast<size_t>(old)]->wait_exit(seconds(10));
  masters[static_cast<size_t>(old)].reset();
  REQUIRE(eventually([&] { return leader() >= 0; }, seconds(60)));
  CHECK(agent.wait_for_line("re-registered with the master", seconds(60)));
  auto second = execute("after-crash");
  CHECK_EQUAL(second.exit_code, 0);
  CHECK(second.output.find("TASK_FINISHED") != std::string::npos);
  // Nobody without the credentials may change the election's nodes (checked in actors_leader_election); none
  // of the masters talked plaintext: a peer without a certificate is refused by the new leader too.
  auto plain = run_to_completion({bin, "execute", "--master=" + url, "--name=plain", "--command=true",
                                  "--resources=cpus:0.1;mem:32", "--timeout=20s"},
                                 dir / "plain.log", seconds(60));
  CHECK_NOT_EQUAL(plain.exit_code, 0);
}

