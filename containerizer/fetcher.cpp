#include "containerizer/fetcher.hpp"

#include "config/support/files.hpp"
#include "messages/task_checks.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

constexpr std::string_view temp_prefix = ".fetch-";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// ---------------------------------------------------------------------------------------------------------------
// Files

// A file created next to its final name (same file system, so the rename is atomic); removed unless committed.
class temp_file {
public:
  explicit temp_file(const std::string& dir) : path_(dir + "/" + std::string{temp_prefix} + "XXXXXX") {
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
    if (fd_ < 0)
      error_ = errno_text("cannot create a file in '" + dir + "'", errno);
  }
  ~temp_file() {
    if (fd_ >= 0)
      ::close(fd_);
    if (!committed_ && error_.empty())
      ::unlink(path_.c_str());
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  const std::string& error() const { return error_; }
  int fd() const { return fd_; }

  /// Gives the file `mode` and renames it to `target`.
  std::string commit(const std::string& target, mode_t mode) {
    if (::fchmod(fd_, mode) != 0)
      return errno_text("cannot chmod '" + path_ + "'", errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      return errno_text("cannot write '" + path_ + "'", errno);
    if (::rename(path_.c_str(), target.c_str()) != 0)
      return errno_text("cannot rename '" + path_ + "' to '" + target + "'", errno);
    committed_ = true;
    return {};
  }

private:
  std::string path_;
  int fd_ = -1;
  std::string error_;
  bool committed_ = false;
};

std::string write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    auto n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno_text("write", errno);
    data += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

/// Copies the regular file `from` to `to` (through a temporary file, so `to` appears complete or not at all).
std::string copy_file(const std::string& from, const std::string& to, mode_t mode) {
  fd_guard in{::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (in.fd < 0)
    return errno_text("cannot open '" + from + "'", errno);
  temp_file out{parent_of(to)};
  if (!out.error().empty())
    return out.error();
  std::vector<char> buf(1 << 16);
  for (;;) {
    auto n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno_text("cannot read '" + from + "'", errno);
    if (n == 0)
      break;
    if (auto err = write_all(out.fd(), buf.data(), static_cast<size_t>(n)); !err.empty())
      return "cannot write '" + to + "': " + err;
  }
  return out.commit(to, mode);
}

// ---------------------------------------------------------------------------------------------------------------
// Downloads (libcurl)

void init_curl() {
  // curl_global_init is not thread-safe on every libcurl build; once per process is enough.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool is_local(const std::string& uri) {
  return uri.front() == '/' || starts_with(uri, "file://");
}

// "file://" + the path with every character curl would read as syntax ('%', '?', '#', ...) escaped.
std::string file_url(const std::string& path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string url = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::strchr("/-._~!$&'()*+,;=:@", c))
      url += static_cast<char>(c);
    else
      url += {'%', hex[c >> 4], hex[c & 15]};
  }
  return url;
}

// The local path a file URI names (curl decodes %XX the same way).
std::string local_path(const std::string& uri) {
  if (uri.front() == '/')
    return uri;
  std::string rest = uri.substr(std::strlen("file://"));
  int len = 0;
  char* decoded = curl_easy_unescape(nullptr, rest.c_str(), static_cast<int>(rest.size()), &len);
  if (decoded == nullptr)
    return rest;
  std::string path{decoded, static_cast<size_t>(len)};
  curl_free(decoded);
  return path;
}

struct download_sink {
  int fd = -1;
  uint64_t limit = 0;
  uint64_t written = 0;
  bool too_large = false;
  std::string write_error;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<download_sink*>(user);
  size_t len = size * count;
  if (sink->written + len > sink->limit) {
    sink->too_large = true;
    return 0; // anything but `len` aborts the transfer
  }
  if (auto err = write_all(sink->fd, data, len); !err.empty()) {
    sink->write_error = err;
    return 0;
  }
  sink->written += len;
  return len;
}

/// Downloads `uri` to `target` (through a temporary file in its directory) with `mode`.
std::string download(const std::string& uri, const std::string& target, mode_t mode, const fetch_request& req) {
  if (is_local(uri)) {
    // A FIFO or device would block or never end; a directory is no file to copy.
    auto path = local_path(uri);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      return errno_text("cannot stat '" + path + "'", errno);
    if (!S_ISREG(st.st_mode))
      return "'" + path + "' is not a regular file";
  }
  init_curl();
  temp_file tmp{parent_of(target)};
  if (!tmp.error().empty())
    return tmp.error();
  char error_buffer[CURL_ERROR_SIZE] = {0}; // before the handle: it outlives its use
  download_sink sink;
  std::unique_ptr<CURL, void (*)(CURL*)> handle{curl_easy_init(), curl_easy_cleanup};
  if (!handle)
    return "cannot initialise libcurl";
  CURL* c = handle.get();
  auto url = uri.front() == '/' ? file_url(uri) : uri;
  sink.fd = tmp.fd();
  sink.limit = req.max_bytes;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); // no SIGALRM in a multithreaded process
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"); // a server must not point us at local files
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mesoscaf-fetcher");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(std::min<uint64_t>(req.max_bytes, LLONG_MAX)));
  if (req.stall_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.stall_timeout.count()));
  }
  if (req.total_timeout.count() > 0)
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(req.total_timeout.count()));
  auto rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED)
    return "larger than the limit of " + std::to_string(req.max_bytes) + " bytes";
  if (!sink.write_error.empty())
    return "cannot write '" + target + "': " + sink.write_error;
  if (rc == CURLE_HTTP_RETURNED_ERROR)
    return "HTTP status " + std::to_string(status);
  if (rc != CURLE_OK)
    return error_buffer[0] != '\0' ? std::string{error_buffer} : std::string{curl_easy_strerror(rc)};
  if (!is_local(uri) && (status < 200 || status > 299))
    return "HTTP status " + std::to_string(status);
  return tmp.commit(target, mode);
}

// ---------------------------------------------------------------------------------------------------------------
// Archives (libarchive)

bool is_archive(std::string_view name) {
  for (auto ext : {".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".zip"})
    if (ends_with(name, ext))
      return true;
  return false;
}

using archive_reader = std::unique_ptr<archive, int (*)(archive*)>;

archive_reader open_archive(const std::string& path, std::string& error) {
  archive_reader a{archive_read_new(), archive_read_free};
  // Only what the fetcher unpacks: less parser code exposed to untrusted input.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    error = archive_error_string(a.get()) ? archive_error_string(a.get()) : "cannot open the archive";
    return {nullptr, archive_read_free};
  }
  return a;
}

std::string read_error(archive* a) {
  auto* text = archive_error_string(a);
  return text ? text : "unreadable archive";
}

// The '/'-separated components of `path` without empty and "." ones.
std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty() && part != ".")
      parts.push_back(part);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return parts;
}

bool leaves_directory(std::string_view path) {
  if (path.empty() || path.front() == '/')
    return true;
  auto parts = components(path);
  return std::find(parts.begin(), parts.end(), "..") != parts.end();
}

/// Reads every entry header of `file` without writing anything; refuses an archive that could write outside
/// the sandbox or beyond `max_bytes`.
std::string scan_archive(const std::string& file, uint64_t max_bytes) {
  std::string error;
  auto a = open_archive(file, error);
  if (!a)
    return error;
  std::set<std::string> symlinks; // normalised entry paths
  uint64_t total = 0;
  for (;;) {
    archive_entry* e = nullptr;
    auto r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF)
      return {};
    if (r < ARCHIVE_WARN)
      return read_error(a.get());
    const char* raw = archive_entry_pathname(e);
    if (raw == nullptr || *raw == '\0')
      return "an archive entry has no readable name";
    std::string name = raw;
    auto entry = [&] { return "archive entry '" + name + "'"; };
    if (name.front() == '/')
      return entry() + " is an absolute path";
    if (leaves_directory(name))
      return entry() + " escapes the sandbox";
    auto parts = components(name);
    std::string normal;
    for (auto part : parts) {
      if (symlinks.count(normal))
        return entry() + " lies under the symbolic link '" + normal + "'";
      normal += normal.empty() ? std::string{part} : "/" + std::string{part};
    }
    auto type = archive_entry_filetype(e);
    if (const char* target = archive_entry_hardlink(e)) {
      if (leaves_directory(target))
        return entry() + " is a hard link to '" + target + "' outside the sandbox";
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr || leaves_directory(target))
        return entry() + " is a symbolic link to '" + (target ? target : "") + "' outside the sandbox";
      symlinks.insert(normal);
    } else if (type == AE_IFREG) {
      if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
        total += static_cast<uint64_t>(archive_entry_size(e));
      if (total > max_bytes)
        return "the archive holds more than the limit of " + std::to_string(max_bytes) + " bytes";
    } else if (type != AE_IFDIR) {
      return entry() + " is a device, FIFO or socket";
    }
  }
}

/// Unpacks `file` into `root` (a canonical absolute directory). Call scan_archive first.
std::string unpack_archive(const std::string& file, const std::string& root, uint64_t max_bytes) {
  std::string error;
  auto in = open_archive(file, error);
  if (!in)
    return error;
  // No ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS: every pathname is made absolute below (no chdir in a
  // multithreaded process), and scan_archive already refused absolute entries. Never ARCHIVE_EXTRACT_OWNER.
  constexpr int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_TIME
                        | ARCHIVE_EXTRACT_PERM;
  std::unique_ptr<archive, int (*)(archive*)> out{archive_write_disk_new(), archive_write_free};
  archive_write_disk_set_options(out.get(), flags);
  uint64_t written = 0;
  for (;;) {
    archive_entry* e = nullptr;
    auto r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN)
      return read_error(in.get());
    const char* raw = archive_entry_pathname(e);
    if (raw == nullptr)
      return "an archive entry has no readable name";
    std::string name = raw;
    archive_entry_copy_pathname(e, (root + "/" + name).c_str());
    if (const char* target = archive_entry_hardlink(e))
      archive_entry_copy_hardlink(e, (root + "/" + target).c_str());
    // No set-user/group-ID files from an archive, even our own.
    archive_entry_set_perm(e, archive_entry_perm(e) & ~static_cast<mode_t>(S_ISUID | S_ISGID));
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return "cannot extract archive entry '" + name + "': " + read_error(out.get());
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      r = archive_read_data_block(in.get(), &block, &size, &offset);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return "cannot read archive entry '" + name + "': " + read_error(in.get());
      // Headers may understate sizes (streamed zip entries): count what is really written.
      written += size;
      if (written > max_bytes)
        return "the archive holds more than the limit of " + std::to_string(max_bytes) + " bytes";
      if (archive_write_data_block(out.get(), block, size, offset) < ARCHIVE_WARN)
        return "cannot extract archive entry '" + name + "': " + read_error(out.get());
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return "cannot extract archive entry '" + name + "': " + read_error(out.get());
  }
  if (archive_write_close(out.get()) < ARCHIVE_WARN) // sets the deferred directory times and modes
    return "cannot finish the extraction: " + read_error(out.get());
  return {};
}

std::string extract(const std::string& file, const std::string& root, uint64_t max_bytes) {
  if (auto err = scan_archive(file, max_bytes); !err.empty())
    return err;
  return unpack_archive(file, root, max_bytes);
}

// ---------------------------------------------------------------------------------------------------------------
// The per-user cache

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    return {};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i)
    out += {hex[digest[i] >> 4], hex[digest[i] & 15]};
  return out;
}

bool is_cache_key(std::string_view name) {
  return name.size() == 64
         && std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// `<cache_dir>/<euid>`, created 0700; "" with `why` if it is not a directory that only we can write.
std::string user_cache(const std::string& cache_dir, std::string& why) {
  auto uid = ::geteuid();
  auto dir = cache_dir + "/" + std::to_string(uid);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    why = errno_text("cannot create '" + dir + "'", errno);
    return {};
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0)
    why = errno_text("cannot stat '" + dir + "'", errno);
  else if (!S_ISDIR(st.st_mode))
    why = "'" + dir + "' is not a directory";
  else if (st.st_uid != uid)
    why = "'" + dir + "' belongs to uid " + std::to_string(st.st_uid) + ", not to us";
  else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    why = "'" + dir + "' is writable by other users";
  return why.empty() ? dir : std::string{};
}

/// flock on `<dir>/.lock`: fetchers of one user take turns in their cache.
class cache_lock {
public:
  explicit cache_lock(const std::string& dir) : fd_(::open((dir + "/.lock").c_str(),
                                                           O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) {
    if (fd_.fd < 0) {
      error_ = errno_text("cannot open '" + dir + "/.lock'", errno);
      return;
    }
    while (::flock(fd_.fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error_ = errno_text("cannot lock '" + dir + "/.lock'", errno);
        return;
      }
    }
  }
  const std::string& error() const { return error_; }

private:
  fd_guard fd_; // closing it releases the lock
  std::string error_;
};

/// Removes least recently used entries (oldest mtime first) until the cache holds at most `limit` bytes; `keep`
/// (the entry just added) stays. Runs under the lock, so leftover temporary files are a crashed fetcher's.
void evict(const std::string& dir, uint64_t limit, const std::string& keep, std::ostream& log) {
  struct item {
    std::string name;
    uint64_t size;
    timespec mtime;
  };
  std::unique_ptr<DIR, int (*)(DIR*)> d{::opendir(dir.c_str()), ::closedir};
  if (!d)
    return;
  std::vector<item> items;
  uint64_t total = 0;
  while (auto* ent = ::readdir(d.get())) {
    std::string_view name = ent->d_name;
    if (starts_with(name, temp_prefix)) {
      ::unlinkat(::dirfd(d.get()), ent->d_name, 0);
      continue;
    }
    struct stat st;
    if (!is_cache_key(name) || ::fstatat(::dirfd(d.get()), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
        || !S_ISREG(st.st_mode))
      continue;
    items.push_back({std::string{name}, static_cast<uint64_t>(st.st_size), st.st_mtim});
    total += static_cast<uint64_t>(st.st_size);
  }
  std::sort(items.begin(), items.end(), [](const item& a, const item& b) {
    return std::tie(a.mtime.tv_sec, a.mtime.tv_nsec, a.name) < std::tie(b.mtime.tv_sec, b.mtime.tv_nsec, b.name);
  });
  for (const auto& it : items) {
    if (total <= limit)
      break;
    if (it.name == keep || ::unlinkat(::dirfd(d.get()), it.name.c_str(), 0) != 0)
      continue;
    total -= it.size;
    log << "Evicted '" << dir << "/" << it.name << "' (" << it.size << " bytes) from the cache\n";
  }
}

std::string fetch_through_cache(const command_uri& uri, const std::string& dest, mode_t mode,
                                const std::string& cache, const fetch_request& req, std::ostream& log) {
  auto key = sha256_hex(uri.value);
  if (key.empty())
    return "cannot compute the SHA-256 of the URI";
  cache_lock lock{cache};
  if (!lock.error().empty())
    return lock.error();
  auto entry = cache + "/" + key;
  struct stat st;
  if (::lstat(entry.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    log << "Using cached '" << uri.value << "' ('" << entry << "')\n";
    ::utimensat(AT_FDCWD, entry.c_str(), nullptr, AT_SYMLINK_NOFOLLOW); // now: most recently used
    return copy_file(entry, dest, mode);
  }
  log << "Downloading '" << uri.value << "' into the cache ('" << entry << "')\n";
  if (auto err = download(uri.value, entry, 0600, req); !err.empty())
    return err;
  auto err = copy_file(entry, dest, mode);
  if (::lstat(entry.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > req.cache_bytes) {
    log << "Not keeping '" << uri.value << "' in the cache: " << st.st_size << " bytes exceed its size of "
        << req.cache_bytes << " bytes\n";
    ::unlink(entry.c_str());
  }
  evict(cache, req.cache_bytes, key, log);
  return err;
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments

bool parse_number(std::string_view text, uint64_t& out) {
  if (text.empty())
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

fetch_result fetch_uris(const fetch_request& req, std::ostream& log) {
  auto fail = [](const std::string& uri, const std::string& cause) {
    return fetch_result{false, "Failed to fetch '" + uri + "': " + cause};
  };
  if (req.uris.empty())
    return {true, {}};
  for (const auto& uri : req.uris)
    if (auto err = check_uri(uri); !err.empty())
      return fail(uri.value, err);
  const auto& first = req.uris.front().value;
  if (req.sandbox.empty() || req.sandbox.front() != '/')
    return fail(first, "the sandbox '" + req.sandbox + "' is not an absolute path");
  if (auto err = make_directories(req.sandbox); !err.empty())
    return fail(first, err);
  // Canonical: libarchive's symlink checks walk the whole path, and containment checks compare prefixes.
  std::unique_ptr<char, void (*)(void*)> real{::realpath(req.sandbox.c_str(), nullptr), std::free};
  if (!real)
    return fail(first, errno_text("cannot resolve the sandbox '" + req.sandbox + "'", errno));
  std::string root = real.get();
  std::string cache;
  bool cache_checked = false;
  for (const auto& uri : req.uris) {
    auto rel = uri_output_path(uri);
    auto dest = (root == "/" ? std::string{} : root) + "/" + rel;
    auto dir = parent_of(dest);
    if (auto err = make_directories(dir); !err.empty())
      return fail(uri.value, err);
    std::unique_ptr<char, void (*)(void*)> real_dir{::realpath(dir.c_str(), nullptr), std::free};
    if (!real_dir)
      return fail(uri.value, errno_text("cannot resolve '" + dir + "'", errno));
    std::string resolved = real_dir.get();
    if (resolved != root && !starts_with(resolved, root == "/" ? root : root + "/"))
      return fail(uri.value, "'" + rel + "' leads out of the sandbox through a symbolic link");
    log << "Fetching '" << uri.value << "' to '" << dest << "'\n";
    mode_t mode = uri.executable ? 0755 : 0644;
    if (uri.cache && !req.cache_dir.empty() && !cache_checked) {
      cache_checked = true;
      std::string why;
      cache = user_cache(req.cache_dir, why);
      if (cache.empty())
        log << "Not using the fetcher cache: " << why << "\n";
    }
    auto err = uri.cache && !cache.empty() ? fetch_through_cache(uri, dest, mode, cache, req, log)
                                           : download(uri.value, dest, mode, req);
    if (!err.empty())
      return fail(uri.value, err);
    if (uri.extract && is_archive(rel)) {
      log << "Extracting '" << dest << "' into '" << root << "'\n";
      if (auto why = extract(dest, root, req.max_bytes); !why.empty())
        return fail(uri.value, "cannot extract '" + rel + "': " + why);
    }
    log << "Fetched '" << uri.value << "'\n";
  }
  return {true, {}};
}

std::vector<std::string> fetcher_arguments(const fetch_request& req) {
  std::vector<std::string> args{
    "--sandbox=" + req.sandbox,
    "--cache-dir=" + req.cache_dir,
    "--cache-size=" + std::to_string(req.cache_bytes),
    "--max-bytes=" + std::to_string(req.max_bytes),
    "--stall-timeout=" + std::to_string(req.stall_timeout.count()),
    "--timeout=" + std::to_string(req.total_timeout.count()),
  };
  for (const auto& uri : req.uris) {
    args.push_back("--uri=" + uri.value);
    args.push_back(std::string{"--uri-flags="} + (uri.executable ? 'x' : '-') + (uri.extract ? 'e' : '-')
                   + (uri.cache ? 'c' : '-'));
    args.push_back("--uri-output=" + uri.output_file);
  }
  return args;
}

std::optional<fetch_request> parse_fetcher_arguments(const std::vector<std::string>& args, std::string* error) {
  fetch_request req;
  std::set<std::string> seen;        // options given once
  std::set<std::string> uri_seen;    // --uri-flags / --uri-output of the current URI
  auto refuse = [&](const std::string& why) -> std::optional<fetch_request> {
    if (error)
      *error = why;
    return std::nullopt;
  };
  constexpr uint64_t max_seconds = 100ull * 365 * 86400;
  for (const auto& arg : args) {
    auto eq = arg.find('=');
    if (!starts_with(arg, "--") || eq == std::string::npos)
      return refuse("malformed argument '" + arg + "' (expected --name=value)");
    auto name = arg.substr(2, eq - 2);
    auto value = arg.substr(eq + 1);
    if (name == "uri") {
      req.uris.emplace_back();
      req.uris.back().value = value;
      uri_seen.clear();
      continue;
    }
    if (name == "uri-flags" || name == "uri-output") {
      if (req.uris.empty())
        return refuse("--" + name + " before any --uri");
      if (!uri_seen.insert(name).second)
        return refuse("--" + name + " given twice for the URI '" + req.uris.back().value + "'");
      auto& uri = req.uris.back();
      if (name == "uri-output") {
        uri.output_file = value;
        continue;
      }
      auto flag = [&](size_t i, char on) { return value[i] == on ? 1 : value[i] == '-' ? 0 : -1; };
      if (value.size() != 3 || flag(0, 'x') < 0 || flag(1, 'e') < 0 || flag(2, 'c') < 0)
        return refuse("--uri-flags='" + value + "': expected three characters [x-][e-][c-]");
      uri.executable = flag(0, 'x') == 1;
      uri.extract = flag(1, 'e') == 1;
      uri.cache = flag(2, 'c') == 1;
      continue;
    }
    if (!seen.insert(name).second)
      return refuse("--" + name + " given twice");
    uint64_t n = 0;
    if (name == "sandbox") {
      req.sandbox = value;
    } else if (name == "cache-dir") {
      req.cache_dir = value;
    } else if (name == "cache-size" || name == "max-bytes") {
      if (!parse_number(value, n))
        return refuse("--" + name + "='" + value + "': expected a number of bytes");
      (name == "cache-size" ? req.cache_bytes : req.max_bytes) = n;
    } else if (name == "stall-timeout" || name == "timeout") {
      if (!parse_number(value, n) || n > max_seconds)
        return refuse("--" + name + "='" + value + "': expected a number of seconds");
      (name == "timeout" ? req.total_timeout : req.stall_timeout) = std::chrono::seconds(n);
    } else {
      return refuse("unknown argument '--" + name + "'");
    }
  }
  if (req.sandbox.empty() || req.sandbox.front() != '/')
    return refuse("--sandbox must be an absolute directory");
  if (!req.cache_dir.empty() && req.cache_dir.front() != '/')
    return refuse("--cache-dir must be an absolute directory");
  return req;
}

int run_fetcher(int argc, char** argv) {
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: mesoscaf fetcher --sandbox=DIR [--cache-dir=DIR --cache-size=BYTES --max-bytes=BYTES\n"
                 "         --stall-timeout=SECONDS --timeout=SECONDS] {--uri=URI [--uri-flags=[x-][e-][c-]]"
                 " [--uri-output=FILE]}...\n"
                 "Fetches the URIs into the sandbox (the agent runs this before a task's command).\n";
    return 0;
  }
  std::string error;
  auto req = parse_fetcher_arguments(args, &error);
  if (!req) {
    std::cerr << "mesoscaf fetcher: " << error << "\n";
    return 2;
  }
  auto result = fetch_uris(*req, std::cerr);
  if (!result.ok) {
    std::cerr << result.message << std::endl;
    return 1;
  }
  std::cerr.flush();
  return 0;
}

} // namespace mesoscaf
