#define CAF_SUITE http_sandbox_paths
#include "test.hpp"

#include "actors/http/sandbox_paths.hpp"

#include <filesystem>
#include <fstream>

#include <stdlib.h>
#include <unistd.h>

using namespace mesoscaf::http;
namespace fs = std::filesystem;

namespace {

struct fixture {
  std::string root;
  std::string sandbox;
  fixture() {
    std::string templ = (fs::temp_directory_path() / "mesoscaf-paths-XXXXXX").string();
    root = ::mkdtemp(templ.data());
    sandbox = root + "/agents/a1/frameworks/f1/executors/e1/runs/r1";
    fs::create_directories(sandbox + "/tasks/t1");
    fs::create_directories(root + "/meta");
    std::ofstream{sandbox + "/tasks/t1/stdout"} << "hello\n";
    std::ofstream{root + "/meta/secret"} << "checkpoint\n";
    std::ofstream{"/tmp/mesoscaf-paths-outside"} << "outside\n";
  }
  ~fixture() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

} // namespace

FIXTURE_SCOPE(sandbox_paths_tests, fixture)

TEST(a file inside a sandbox resolves to its real path) {
  auto c = confine_to_sandboxes(root, sandbox + "/tasks/t1/stdout");
  CHECK_EQUAL(c.status, 200);
  CHECK_EQUAL(c.real, fs::canonical(sandbox + "/tasks/t1/stdout").string());
  CHECK_EQUAL(confine_to_sandboxes(root, sandbox).status, 200);
}

TEST(dot dot out of the sandbox is refused) {
  CHECK_EQUAL(confine_to_sandboxes(root, sandbox + "/../../../../../../../meta/secret").status, 403);
  CHECK_EQUAL(confine_to_sandboxes(root, sandbox + "/../../../../../../../../../../etc/passwd").status, 403);
}

TEST(paths of the agent outside every sandbox are refused) {
  CHECK_EQUAL(confine_to_sandboxes(root, root + "/meta/secret").status, 403);
  CHECK_EQUAL(confine_to_sandboxes(root, root + "/agents/a1/frameworks/f1").status, 403);
  CHECK_EQUAL(confine_to_sandboxes(root, "/etc/passwd").status, 403);
}

TEST(a symlink leading out of the sandbox is refused) {
  fs::create_symlink("/tmp/mesoscaf-paths-outside", sandbox + "/link");
  fs::create_symlink(root + "/meta", sandbox + "/metalink");
  CHECK_EQUAL(confine_to_sandboxes(root, sandbox + "/link").status, 403);
  CHECK_EQUAL(confine_to_sandboxes(root, sandbox + "/metalink/secret").status, 403);
}

TEST(missing files inside a sandbox are 404 and relative paths 400) {
  CHECK_EQUAL(confine_to_sandboxes(root, sandbox + "/nothing").status, 404);
  CHECK_EQUAL(confine_to_sandboxes(root, "relative/stdout").status, 400);
  CHECK_EQUAL(confine_to_sandboxes(root, "").status, 400);
  CHECK_EQUAL(confine_to_sandboxes(root, "/nonexistent-dir/x").status, 403);
}

FIXTURE_SCOPE_END()
