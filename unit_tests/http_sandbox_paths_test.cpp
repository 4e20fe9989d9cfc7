#define CAF_SUITE http_sandbox_paths
#include "test.hpp"

#include "actors/http/sandbox_paths.hpp"

#include <filesystem>
#include <fstream>

#include <fcntl.h>
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

TEST(a directory swapped for a symlink after the check does not lead outside the sandbox) {
  fs::create_directories(sandbox + "/sub");
  std::ofstream{sandbox + "/sub/secret"} << "inside\n";
  auto c = confine_to_sandboxes(root, sandbox + "/sub/secret");
  REQUIRE_EQUAL(c.status, 200);
  CHECK_EQUAL(c.sandbox, fs::canonical(sandbox).string());
  CHECK_EQUAL(c.below, "./sub/secret");
  auto read_all = [](int fd) {
    std::string text(64, '\0');
    auto n = ::read(fd, text.data(), text.size());
    ::close(fd);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  };
  int fd = open_confined(c, O_RDONLY);
  REQUIRE(fd >= 0);
  CHECK_EQUAL(read_all(fd), "inside\n");
  // The task swaps sub for a link to the agent's checkpoints (which hold a file of that name) before the open.
  fs::rename(sandbox + "/sub", sandbox + "/was-sub");
  fs::create_symlink(root + "/meta", sandbox + "/sub");
  fd = open_confined(c, O_RDONLY);
  int err = errno;
  if (fd >= 0)
    MESSAGE("read outside the sandbox: " << read_all(fd));
  CHECK(fd < 0);
  CHECK_EQUAL(err, EXDEV);
  // The sandbox itself opens as a directory.
  auto whole = confine_to_sandboxes(root, sandbox);
  CHECK_EQUAL(whole.below, ".");
  fd = open_confined(whole, O_RDONLY | O_DIRECTORY);
  CHECK(fd >= 0);
  if (fd >= 0)
    ::close(fd);
}

FIXTURE_SCOPE_END()
