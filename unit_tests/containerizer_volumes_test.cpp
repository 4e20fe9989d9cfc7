#define CAF_SUITE containerizer_volumes
#include "config/support/files.hpp"
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include "containerizer/launcher.hpp"
#include "containerizer/volumes.hpp"

#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

using namespace mesoscaf;
using mesoscaf::test::read_file;
using mesoscaf::test::temp_dir;

namespace {

bool is_symlink(const std::string& p) {
  struct stat sb;
  return ::lstat(p.c_str(), &sb) == 0 && S_ISLNK(sb.st_mode);
}

bool exists(const std::string& p) {
  struct stat sb;
  return ::lstat(p.c_str(), &sb) == 0;
}

void write(const std::string& p, const std::string& text) {
  std::ofstream out{p};
  out << text;
}

} // namespace

TEST(volume directories escape role paths so no two roles or volumes share one) {
  CHECK_EQUAL(volume_directory("/w", "eng", "vol1"), "/w/volumes/roles/eng/vol1");
  CHECK_EQUAL(volume_directory("/w", "eng/prod", "x"), "/w/volumes/roles/eng%2Fprod/x");
  // Role "eng" with volume "prod" must not be a parent of role "eng/prod"'s volumes.
  CHECK_NOT_EQUAL(volume_directory("/w", "eng", "prod") + "/x", volume_directory("/w", "eng/prod", "x"));
  CHECK_EQUAL(volume_directory("/w", "*", "vol1"), "");
  CHECK_EQUAL(volume_directory("/w", "eng", ".."), "");
  CHECK_EQUAL(volume_directory("/w", "eng", "a/b"), "");
  CHECK_EQUAL(volume_directory("/w", "../etc", "v"), "");
  CHECK_EQUAL(volume_directory("", "eng", "v"), "");
}

TEST(link_volume creates intermediate directories and a link that reaches the volume) {
  temp_dir d{"mesoscaf-volumes"};
  auto vol = d / "vol";
  REQUIRE(make_directories(vol).empty());
  write(vol + "/f", "hello");
  auto sandbox = d / "sandbox/tasks/t1";
  CHECK_EQUAL(link_volume(sandbox, "a/b/data", vol), "");
  CHECK(is_symlink(sandbox + "/a/b/data"));
  CHECK_EQUAL(read_file(sandbox + "/a/b/data/f"), "hello");
  // Linking the same volume at the same place again is fine (a custom executor's second task).
  CHECK_EQUAL(link_volume(sandbox, "a/b/data", vol), "");
  // Writing through the link lands in the volume.
  write(sandbox + "/a/b/data/g", "more");
  CHECK_EQUAL(read_file(vol + "/g"), "more");
}

TEST(link_volume refuses anything that could leave the sandbox) {
  temp_dir d{"mesoscaf-volumes"};
  auto vol = d / "vol";
  auto outside = d / "outside";
  REQUIRE(make_directories(vol).empty());
  REQUIRE(make_directories(outside).empty());
  auto sandbox = d / "sandbox";
  REQUIRE(make_directories(sandbox).empty());
  // Unsafe relative paths.
  for (auto p : {"../x", "/abs", "a/../../x", "", "a//b", "./a", "a/."})
    CHECK_NOT_EQUAL(link_volume(sandbox, p, vol), "");
  // A symlink a task left on the way is never followed.
  REQUIRE(::symlink(outside.c_str(), (sandbox + "/evil").c_str()) == 0);
  CHECK_NOT_EQUAL(link_volume(sandbox, "evil/data", vol), "");
  CHECK(!exists(outside + "/data"));
  // An existing file or a link elsewhere at the final name is not replaced.
  write(sandbox + "/file", "x");
  CHECK_NOT_EQUAL(link_volume(sandbox, "file", vol), "");
  CHECK_EQUAL(read_file(sandbox + "/file"), "x");
  CHECK_NOT_EQUAL(link_volume(sandbox, "evil", vol), "");
  // A file on the way.
  CHECK_NOT_EQUAL(link_volume(sandbox, "file/data", vol), "");
}

TEST(atomic writes replace the whole file and leave no temporary behind) {
  temp_dir d{"mesoscaf-volumes"};
  auto p = d / "meta/resources";
  CHECK_EQUAL(write_file_atomically(p, "one\n"), "");
  CHECK_EQUAL(read_file(p), "one\n");
  CHECK_EQUAL(write_file_atomically(p, "two\n"), "");
  CHECK_EQUAL(read_file(p), "two\n");
  CHECK(!exists(p + ".tmp"));
  std::string text;
  bool found = false;
  CHECK_EQUAL(read_whole_file(p, text, found), "");
  CHECK(found);
  CHECK_EQUAL(text, "two\n");
  CHECK_EQUAL(read_whole_file(d / "missing", text, found), "");
  CHECK(!found);
  // A directory cannot be written over.
  REQUIRE(make_directories(d / "adir").empty());
  CHECK_NOT_EQUAL(write_file_atomically(d / "adir", "x"), "");
}

TEST(remove_tree deletes a tree without following links out of it) {
  temp_dir d{"mesoscaf-volumes"};
  auto keep = d / "keep";
  REQUIRE(make_directories(keep).empty());
  write(keep + "/precious", "x");
  auto tree = d / "tree";
  REQUIRE(make_directories(tree + "/a/b").empty());
  write(tree + "/a/b/f", "y");
  REQUIRE(::symlink(keep.c_str(), (tree + "/a/link").c_str()) == 0);
  CHECK_EQUAL(remove_tree(tree), "");
  CHECK(!exists(tree));
  CHECK_EQUAL(read_file(keep + "/precious"), "x");
  CHECK_EQUAL(remove_tree(tree), "");  // already gone: fine
}
