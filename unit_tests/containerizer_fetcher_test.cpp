#define CAF_SUITE containerizer_fetcher
#include "test.hpp"

#include "child_process.hpp"
#include "test_helpers.hpp"

#include "file_server.hpp"
#include "config/support/files.hpp"
#include "containerizer/fetcher.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace mesoscaf;
using mesoscaf::test::read_file;
using mesoscaf::test::temp_dir;
using mesoscaf::test::file_server;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

mode_t mode_of(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode : 0;
}

/// Every path under `dir`, relative to it (symlinks not followed).
std::set<std::string> tree(const std::string& dir) {
  std::set<std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    out.insert(std::filesystem::relative(e.path(), dir).string());
  return out;
}

command_uri uri_of(const std::string& value, const std::string& output = {}) {
  command_uri u;
  u.value = value;
  u.output_file = output;
  return u;
}

/// One member of a test archive: 'f' file, 'd' directory, 'l' symbolic link, 'h' hard link (to `target`).
struct member {
  member(std::string p, std::string d, char t = 'f', std::string to = {})
      : path(std::move(p)), data(std::move(d)), type(t), target(std::move(to)) {}
  std::string path;
  std::string data;
  char type;
  std::string target;
};

/// Writes an archive with libarchive; the format follows the name (.zip, .tar, .tar.gz, .tar.xz, .tar.bz2).
void make_archive(const std::string& file, const std::vector<member>& members) {
  auto ends = [&](const std::string& s) {
    return file.size() >= s.size() && file.compare(file.size() - s.size(), s.size(), s) == 0;
  };
  archive* a = archive_write_new();
  if (ends(".zip")) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (ends(".gz") || ends(".tgz"))
      archive_write_add_filter_gzip(a);
    else if (ends(".xz") || ends(".txz"))
      archive_write_add_filter_xz(a);
    else if (ends(".bz2"))
      archive_write_add_filter_bzip2(a);
  }
  REQUIRE_EQUAL(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.path.c_str());
    archive_entry_set_mtime(e, 1600000000, 0);
    switch (m.type) {
      case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        break;
      case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_perm(e, 0777);
        archive_entry_set_symlink(e, m.target.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_hardlink(e, m.target.c_str());
        archive_entry_set_size(e, 0);
        break;
      default:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    }
    REQUIRE_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
    if (m.type == 'f' && !m.data.empty())
      REQUIRE_EQUAL(archive_write_data(a, m.data.data(), m.data.size()), static_cast<la_ssize_t>(m.data.size()));
    archive_entry_free(e);
  }
  REQUIRE_EQUAL(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    out += buf;
  }
  return out;
}

struct fixture {
  temp_dir dir{"mesoscaf-fetcher"};
  std::string sandbox = dir / "sandbox";
  std::string cache = dir / "cache";
  std::ostringstream log;

  fixture() {
    REQUIRE(make_directories(sandbox).empty());
    REQUIRE(make_directories(cache).empty());
    ::chmod(cache.c_str(), 01777); // as the agent makes it
  }

  fetch_request request(std::vector<command_uri> uris) const {
    fetch_request req;
    req.uris = std::move(uris);
    req.sandbox = sandbox;
    req.cache_dir = cache;
    return req;
  }

  fetch_result fetch(const fetch_request& req) {
    log.str({});
    return fetch_uris(req, log);
  }
  fetch_result fetch(std::vector<command_uri> uris) {
    return fetch(request(std::move(uris)));
  }

  /// Fetches `uris` from an archive that must be refused: the message names `entry` and nothing but the
  /// archive itself lands in the sandbox.
  void expect_refused_archive(const std::vector<member>& members, const std::string& entry) {
    auto name = "bad-" + std::to_string(++archives) + ".tar.gz";
    make_archive(dir / name, members);
    std::set<std::string> before = tree(sandbox);
    auto r = fetch({uri_of(dir / name)});
    CHECK(!r.ok);
    CHECK(contains(r.message, "archive entry '" + entry + "'"));
    MESSAGE(r.message);
    before.insert(name);
    CHECK_EQUAL(tree(sandbox), before);
  }
  int archives = 0;
};

} // namespace

FIXTURE_SCOPE(containerizer_fetcher_tests, fixture)

TEST(file URIs and absolute paths are copied into the sandbox) {
  write(dir / "data.txt", "hello");
  auto r = fetch({uri_of("file://" + dir / "data.txt"), uri_of(dir / "data.txt", "copy.txt")});
  REQUIRE(r.ok);
  CHECK_EQUAL(r.message, "");
  CHECK_EQUAL(read_file(sandbox + "/data.txt"), "hello");
  CHECK_EQUAL(read_file(sandbox + "/copy.txt"), "hello");
  CHECK_EQUAL(mode_of(sandbox + "/data.txt") & 0777, 0644u);
  CHECK(contains(log.str(), "Fetching 'file://" + dir / "data.txt" + "' to '"));
  // No temporary file is left behind.
  CHECK_EQUAL(tree(sandbox), (std::set<std::string>{"copy.txt", "data.txt"}));
}

TEST(a missing local file or a directory fails with the URI in the message) {
  auto r = fetch({uri_of(dir / "missing.txt")});
  CHECK(!r.ok);
  CHECK(contains(r.message, "Failed to fetch '" + dir / "missing.txt" + "': "));
  r = fetch({uri_of("file://" + dir.path(), "x")});
  CHECK(!r.ok);
  CHECK(contains(r.message, "is not a regular file"));
  CHECK(tree(sandbox).empty());
}

TEST(executable URIs are made executable) {
  write(dir / "tool", "#!/bin/sh\necho hi\n");
  auto u = uri_of(dir / "tool");
  u.executable = true;
  REQUIRE(fetch({u}).ok);
  CHECK_EQUAL(mode_of(sandbox + "/tool") & 0777, 0755u);
}

TEST(an output file in a subdirectory creates the directories) {
  write(dir / "data.txt", "nested");
  REQUIRE(fetch({uri_of(dir / "data.txt", "a/b/c.txt")}).ok);
  CHECK_EQUAL(read_file(sandbox + "/a/b/c.txt"), "nested");
}

TEST(a bad URI fails the fetch before anything is written) {
  write(dir / "data.txt", "x");
  for (auto bad : {"../escape.txt", "/abs.txt", "a/../../b"}) {
    auto r = fetch({uri_of(dir / "data.txt", "first.txt"), uri_of(dir / "data.txt", bad)});
    CHECK(!r.ok);
    CHECK(contains(r.message, "Failed to fetch '" + dir / "data.txt" + "': "));
    CHECK(tree(sandbox).empty());
  }
  auto r = fetch({uri_of(dir / "data.txt", "first.txt"), uri_of("ftp://example.com/x")});
  CHECK(!r.ok);
  CHECK(contains(r.message, "Failed to fetch 'ftp://example.com/x': "));
  CHECK(tree(sandbox).empty());
}

TEST(an output path through a symbolic link out of the sandbox is refused) {
  write(dir / "data.txt", "x");
  REQUIRE(::symlink(dir.path().c_str(), (sandbox + "/out").c_str()) == 0);
  auto r = fetch({uri_of(dir / "data.txt", "out/data2.txt")});
  CHECK(!r.ok);
  CHECK(contains(r.message, "symbolic link"));
  CHECK(!exists(dir / "data2.txt"));
}

TEST(tar gz tar xz tar bz2 and zip archives are extracted and kept) {
  std::vector<member> members{{"top.txt", "top"}, {"sub", "", 'd'}, {"sub/inner.txt", "inner"},
                              {"sub/link", "", 'l', "inner.txt"}, {"hard.txt", "", 'h', "top.txt"}};
  for (std::string name : {"a.tar.gz", "b.tgz", "c.tar.xz", "d.tar.bz2", "e.tar", "f.zip"}) {
    MESSAGE(name);
    auto box = dir / ("box-" + name);
    auto req = request({uri_of(dir / name)});
    req.sandbox = box;
    auto zip = name.size() > 4 && name.substr(name.size() - 4) == ".zip";
    // zip has no hard links.
    make_archive(dir / name, zip ? std::vector<member>(members.begin(), members.end() - 1) : members);
    auto r = fetch(req);
    REQUIRE(r.ok);
    CHECK_EQUAL(read_file(box + "/top.txt"), "top");
    CHECK_EQUAL(read_file(box + "/sub/inner.txt"), "inner");
    CHECK_EQUAL(read_file(box + "/sub/link"), "inner");
    CHECK(S_ISLNK(mode_of(box + "/sub/link")));
    if (!zip)
      CHECK_EQUAL(read_file(box + "/hard.txt"), "top");
    CHECK(exists(box + "/" + name)); // the archive stays, as in Mesos
    CHECK(contains(log.str(), "Extracting '"));
  }
}

TEST(an archive made by the zip command is extracted) {
  REQUIRE(make_directories(dir / "src/docs").empty());
  write(dir / "src/docs/readme.txt", "zipped");
  std::string out;
  REQUIRE_EQUAL(mesoscaf::test::run_shell("cd " + mesoscaf::test::shell_quote(dir / "src")
                                              + " && zip -qr ../z.zip docs",
                                          out),
                0);
  REQUIRE(fetch({uri_of(dir / "z.zip")}).ok);
  CHECK_EQUAL(read_file(sandbox + "/docs/readme.txt"), "zipped");
}

TEST(extract false or a name that is no archive keeps the file as it is) {
  make_archive(dir / "a.tar.gz", {{"x.txt", "x"}});
  auto u = uri_of(dir / "a.tar.gz");
  u.extract = false;
  write(dir / "notes.gz", "not a tarball");
  REQUIRE(fetch({u, uri_of(dir / "notes.gz")}).ok);
  CHECK_EQUAL(tree(sandbox), (std::set<std::string>{"a.tar.gz", "notes.gz"}));
}

TEST(a file named like an archive that is none fails the fetch) {
  write(dir / "fake.tar.gz", "plain text");
  auto r = fetch({uri_of(dir / "fake.tar.gz")});
  CHECK(!r.ok);
  CHECK(contains(r.message, "cannot extract 'fake.tar.gz'"));
}

TEST(an archive entry with dot dot is refused and nothing of the archive is extracted) {
  expect_refused_archive({{"good.txt", "good"}, {"gooddir", "", 'd'}, {"gooddir/g.txt", "g"}, {"../evil", "evil"}},
                         "../evil");
  CHECK(!exists(dir / "evil"));
  CHECK(!exists(sandbox + "/good.txt"));
  expect_refused_archive({{"ok.txt", "ok"}, {"a/../../evil2", "evil"}}, "a/../../evil2");
  CHECK(!exists(dir / "evil2"));
}

TEST(absolute entries and links that leave the sandbox are refused) {
  expect_refused_archive({{"good.txt", "good"}, {"link", "", 'l', "/etc/passwd"}}, "link");
  expect_refused_archive({{"good.txt", "good"}, {"up", "", 'l', "../.."}}, "up");
  expect_refused_archive({{"good.txt", "good"}, {"hard", "", 'h', "../outside.txt"}}, "hard");
  expect_refused_archive({{"good.txt", "good"}, {"/tmp/mesoscaf-fetcher-abs", "x"}}, "/tmp/mesoscaf-fetcher-abs");
  // Writing through a symbolic link the archive itself made.
  expect_refused_archive({{"d", "", 'l', "sub"}, {"d/x.txt", "x"}}, "d/x.txt");
  CHECK(!exists("/tmp/mesoscaf-fetcher-abs"));
}

TEST(an archive that would extract more than max bytes is refused) {
  make_archive(dir / "bomb.tar.gz", {{"a.bin", std::string(300000, '\0')}, {"b.bin", std::string(300000, '\0')}});
  auto req = request({uri_of(dir / "bomb.tar.gz")});
  req.max_bytes = 500000; // the archive itself is small, its content is not
  auto r = fetch(req);
  CHECK(!r.ok);
  CHECK(contains(r.message, "more than the limit of 500000 bytes"));
  CHECK_EQUAL(tree(sandbox), (std::set<std::string>{"bomb.tar.gz"}));
}

TEST(a download larger than max bytes fails) {
  write(dir / "big.bin", std::string(100000, 'b'));
  auto req = request({uri_of(dir / "big.bin")});
  req.max_bytes = 50000;
  auto r = fetch(req);
  CHECK(!r.ok);
  CHECK(contains(r.message, "larger than the limit of 50000 bytes"));
  CHECK(tree(sandbox).empty());
  file_server http;
  http.put("/files/big.bin", std::string(100000, 'b'));
  req.uris = {uri_of(http.url("/files/big.bin"))};
  r = fetch(req);
  CHECK(!r.ok);
  CHECK(contains(r.message, "larger than the limit of 50000 bytes"));
  CHECK(tree(sandbox).empty());
}

TEST(http downloads land in the sandbox and an error status fails naming it) {
  file_server http;
  make_archive(dir / "app.tar.gz", {{"bin/run.sh", "#!/bin/sh\n"}});
  http.put("/files/app.tar.gz", read_file(dir / "app.tar.gz"));
  http.put("/files/plain.txt", "over http");
  REQUIRE(fetch({uri_of(http.url("/files/app.tar.gz")), uri_of(http.url("/files/plain.txt?v=2"))}).ok);
  CHECK_EQUAL(read_file(sandbox + "/bin/run.sh"), "#!/bin/sh\n");
  CHECK_EQUAL(read_file(sandbox + "/plain.txt"), "over http");
  CHECK_EQUAL(http.count("/files/app.tar.gz"), 1);
  auto r = fetch({uri_of(http.url("/files/missing.txt"))});
  CHECK(!r.ok);
  CHECK_EQUAL(r.message, "Failed to fetch '" + http.url("/files/missing.txt") + "': HTTP status 404");
  CHECK(!exists(sandbox + "/missing.txt"));
}

TEST(http redirects are followed to http but never to a local file) {
  file_server http;
  http.put("/files/target.txt", "redirected");
  REQUIRE(fetch({uri_of(http.url("/redirect?to=" + http.url("/files/target.txt")), "r.txt")}).ok);
  CHECK_EQUAL(read_file(sandbox + "/r.txt"), "redirected");
  write(dir / "secret.txt", "secret");
  auto r = fetch({uri_of(http.url("/redirect?to=file://" + dir / "secret.txt"), "s.txt")});
  CHECK(!r.ok);
  CHECK(!exists(sandbox + "/s.txt"));
}

TEST(a server that stops sending is abandoned after the stall timeout) {
  // Listens but never answers: the connection is accepted by the kernel, no byte ever comes.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE_EQUAL(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  REQUIRE_EQUAL(::listen(fd, 8), 0);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  auto req = request({uri_of("http://127.0.0.1:" + std::to_string(ntohs(sa.sin_port)) + "/x")});
  req.stall_timeout = std::chrono::seconds(1);
  req.total_timeout = std::chrono::seconds(20); // a bound should the stall check not fire
  auto start = std::chrono::steady_clock::now();
  auto r = fetch(req);
  CHECK(!r.ok);
  MESSAGE(r.message);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
  ::close(fd);
}

TEST(a cached URI is downloaded once and then copied from the cache) {
  file_server http;
  http.put("/files/tool.sh", "#!/bin/sh\n");
  auto u = uri_of(http.url("/files/tool.sh"));
  u.cache = true;
  u.executable = true;
  REQUIRE(fetch({u}).ok);
  CHECK(contains(log.str(), "Downloading '" + u.value + "' into the cache"));
  auto user_dir = cache + "/" + std::to_string(::geteuid());
  CHECK_EQUAL(mode_of(user_dir) & 07777, 0700u);
  CHECK_EQUAL(read_file(user_dir + "/" + sha256_hex(u.value)), "#!/bin/sh\n");
  REQUIRE(::unlink((sandbox + "/tool.sh").c_str()) == 0);
  REQUIRE(fetch({u}).ok);
  CHECK(contains(log.str(), "Using cached '" + u.value + "'"));
  CHECK_EQUAL(http.count("/files/tool.sh"), 1);
  CHECK_EQUAL(read_file(sandbox + "/tool.sh"), "#!/bin/sh\n");
  CHECK_EQUAL(mode_of(sandbox + "/tool.sh") & 0777, 0755u);
  // Without `cache` the same URI is downloaded again.
  u.cache = false;
  REQUIRE(fetch({u}).ok);
  CHECK_EQUAL(http.count("/files/tool.sh"), 2);
}

TEST(concurrent fetchers of one user download a cached URI once) {
  file_server http;
  http.put("/files/shared.bin", std::string(200000, 's'));
  auto u = uri_of(http.url("/files/shared.bin"));
  u.cache = true;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto req = request({u});
      req.sandbox = dir / ("box" + std::to_string(i));
      std::ostringstream thread_log;
      if (fetch_uris(req, thread_log).ok)
        ++ok;
    });
  for (auto& t : threads)
    t.join();
  CHECK_EQUAL(ok.load(), 4);
  CHECK_EQUAL(http.count("/files/shared.bin"), 1);
  for (int i = 0; i < 4; ++i)
    CHECK_EQUAL(read_file(dir / ("box" + std::to_string(i)) + "/shared.bin").size(), 200000u);
}

TEST(the cache evicts the least recently used entries to stay under its size) {
  file_server http;
  auto user_dir = cache + "/" + std::to_string(::geteuid());
  std::map<std::string, command_uri> uris;
  for (std::string name : {"a", "b", "c", "big"}) {
    http.put("/files/" + name, std::string(name == "big" ? 5000 : 1000, name[0]));
    uris[name] = uri_of(http.url("/files/" + name));
    uris[name].cache = true;
  }
  auto entry = [&](const std::string& name) { return user_dir + "/" + sha256_hex(uris[name].value); };
  // Explicit times: file systems stamp in coarse ticks, two fetches in a row may share one.
  auto age = [&](const std::string& name, int seconds_ago) {
    timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds_ago;
    times[1] = times[0];
    REQUIRE_EQUAL(::utimensat(AT_FDCWD, entry(name).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  };
  auto req = [&](const std::string& name) {
    auto r = request({uris[name]});
    r.cache_bytes = 2500;
    return r;
  };
  REQUIRE(fetch(req("a")).ok);
  age("a", 100);
  REQUIRE(fetch(req("b")).ok);
  age("b", 90);
  REQUIRE(fetch(req("a")).ok); // a hit makes "a" the most recently used
  CHECK(contains(log.str(), "Using cached"));
  REQUIRE(fetch(req("c")).ok); // 3000 bytes > 2500: "b" goes
  CHECK(exists(entry("a")));
  CHECK(!exists(entry("b")));
  CHECK(exists(entry("c")));
  uint64_t total = 0;
  for (auto& f : tree(user_dir))
    if (f != ".lock")
      total += std::filesystem::file_size(user_dir + "/" + f);
  CHECK_LESS_OR_EQUAL(total, 2500u);
  REQUIRE(fetch(req("b")).ok);
  CHECK_EQUAL(http.count("/files/b"), 2);
  CHECK_EQUAL(http.count("/files/a"), 1);
  // Larger than the whole cache: fetched, not kept, nothing else evicted for it.
  auto before = tree(user_dir);
  REQUIRE(fetch(req("big")).ok);
  CHECK_EQUAL(read_file(sandbox + "/big").size(), 5000u);
  CHECK(!exists(entry("big")));
  CHECK_EQUAL(tree(user_dir), before);
}

TEST(a cache directory others can write is not used) {
  file_server http;
  http.put("/files/f.txt", "f");
  auto user_dir = cache + "/" + std::to_string(::geteuid());
  REQUIRE_EQUAL(::mkdir(user_dir.c_str(), 0700), 0);
  REQUIRE_EQUAL(::chmod(user_dir.c_str(), 0770), 0);
  auto u = uri_of(http.url("/files/f.txt"));
  u.cache = true;
  REQUIRE(fetch({u}).ok);
  CHECK(contains(log.str(), "Not using the fetcher cache"));
  REQUIRE(fetch({u}).ok);
  CHECK_EQUAL(http.count("/files/f.txt"), 2);
  CHECK(!exists(user_dir + "/" + sha256_hex(u.value)));
  // A symbolic link in its place is refused as well.
  REQUIRE_EQUAL(::rmdir(user_dir.c_str()), 0);
  REQUIRE_EQUAL(::symlink(dir.path().c_str(), user_dir.c_str()), 0);
  REQUIRE(fetch({u}).ok);
  CHECK(contains(log.str(), "Not using the fetcher cache"));
  CHECK_EQUAL(http.count("/files/f.txt"), 3);
}

TEST(fetcher arguments round trip) {
  fetch_request req;
  req.sandbox = "/var/lib/mesoscaf/slaves/s1/frameworks/f/executors/e/runs/r";
  req.cache_dir = "/var/cache/mesoscaf=fetch";
  req.cache_bytes = 12345;
  req.max_bytes = 678;
  req.stall_timeout = std::chrono::seconds(7);
  req.total_timeout = std::chrono::seconds(0);
  command_uri a = uri_of("http://example.com/a.tar.gz?x=1&y==2");
  command_uri b = uri_of("/opt/tool", "bin/tool");
  b.executable = true;
  b.extract = false;
  b.cache = true;
  command_uri c = uri_of("file:///data/c.zip");
  c.extract = false;
  req.uris = {a, b, c};
  std::string error;
  auto parsed = parse_fetcher_arguments(fetcher_arguments(req), &error);
  REQUIRE(parsed.has_value());
  CHECK_EQUAL(error, "");
  CHECK_EQUAL(parsed->sandbox, req.sandbox);
  CHECK_EQUAL(parsed->cache_dir, req.cache_dir);
  CHECK_EQUAL(parsed->cache_bytes, req.cache_bytes);
  CHECK_EQUAL(parsed->max_bytes, req.max_bytes);
  CHECK(parsed->stall_timeout == req.stall_timeout);
  CHECK(parsed->total_timeout == req.total_timeout);
  CHECK(parsed->uris == req.uris);
  // Defaults and an empty cache directory survive too.
  fetch_request plain;
  plain.sandbox = "/s";
  parsed = parse_fetcher_arguments(fetcher_arguments(plain), &error);
  REQUIRE(parsed.has_value());
  CHECK_EQUAL(parsed->cache_dir, "");
  CHECK_EQUAL(parsed->cache_bytes, plain.cache_bytes);
  CHECK_EQUAL(parsed->max_bytes, plain.max_bytes);
  CHECK(parsed->uris.empty());
}

TEST(malformed fetcher arguments are refused) {
  auto refused = [](std::vector<std::string> args) {
    std::string error;
    auto r = parse_fetcher_arguments(args, &error);
    MESSAGE(error);
    return !r.has_value() && !error.empty();
  };
  CHECK(refused({"--sandbox=/s", "--frobnicate=1"}));
  CHECK(refused({"--sandbox=/s", "--uri-flags=xec"}));                  // before any --uri
  CHECK(refused({"--sandbox=/s", "--uri=/a", "--uri-flags=xyz"}));
  CHECK(refused({"--sandbox=/s", "--uri=/a", "--uri-flags=xe"}));
  CHECK(refused({"--sandbox=/s", "--uri=/a", "--uri-output=a", "--uri-output=b"}));
  CHECK(refused({"--sandbox=relative"}));
  CHECK(refused({}));                                                  // no sandbox
  CHECK(refused({"--sandbox=/s", "--max-bytes=12k"}));
  CHECK(refused({"--sandbox=/s", "--timeout=-1"}));
  CHECK(refused({"--sandbox=/s", "--sandbox=/t"}));
  CHECK(refused({"--sandbox=/s", "--cache-dir=rel"}));
  CHECK(refused({"--sandbox=/s", "/a"}));
  CHECK(refused({"--sandbox"}));
  std::string error;
  CHECK(parse_fetcher_arguments({"--sandbox=/s", "--uri=/a", "--uri=/b", "--uri-flags=--c"}, &error).has_value());
}

TEST(the fetcher subcommand exits 0 1 or 2 and ends a failure with the message) {
  write(dir / "data.txt", "cli");
  auto run = [&](const fetch_request& req, std::string& out) {
    std::string cmd = mesoscaf::test::shell_quote(MESOSCAF_BINARY) + " fetcher";
    for (const auto& arg : fetcher_arguments(req))
      cmd += " " + mesoscaf::test::shell_quote(arg);
    return mesoscaf::test::run_shell(cmd, out);
  };
  std::string out;
  CHECK_EQUAL(run(request({uri_of(dir / "data.txt")}), out), 0);
  CHECK_EQUAL(read_file(sandbox + "/data.txt"), "cli");
  CHECK(contains(out, "Fetching '" + dir / "data.txt" + "'"));
  auto failing = request({uri_of(dir / "data.txt", "ok.txt"), uri_of(dir / "missing.txt")});
  CHECK_EQUAL(run(failing, out), 1);
  auto expected = fetch(failing).message;
  REQUIRE(!out.empty() && out.back() == '\n');
  out.pop_back();
  CHECK_EQUAL(out.substr(out.rfind('\n') + 1), expected);
  CHECK_EQUAL(mesoscaf::test::run_shell(mesoscaf::test::shell_quote(MESOSCAF_BINARY) + " fetcher --bogus=1", out), 2);
}

FIXTURE_SCOPE_END()
