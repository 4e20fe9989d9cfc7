#include "actors/agent/agent_checkpoint.hpp"

#include "containerizer/launcher.hpp"
#include "config/support/files.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <boost/crc.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mesoscaf {

namespace {

// Header: payload length and CRC-32, both little-endian (the files may outlive the process, not the machine,
// but a fixed byte order costs nothing).
constexpr size_t header_size = 8;
// No record comes near this; a larger length can only be garbage (and must not make us allocate it).
constexpr uint32_t max_payload = 64u * 1024 * 1024;
// A versioned frame sets the top bit of its length word (no unversioned frame can: max_payload is far below it)
// and starts its payload with the format version, so a record layout can change without misreading old files.
// Frames written before versioning (no top bit) are version 0 and read as they always were.
constexpr uint32_t versioned_flag = 0x80000000u;
constexpr uint8_t frame_version = 1;

std::string join(std::initializer_list<std::string> parts) {
  std::string result;
  for (auto& p : parts) {
    if (!result.empty())
      result += '/';
    result += p;
  }
  return result;
}

void put_u32(std::string& out, uint32_t x) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i)
    x |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return x;
}

uint32_t crc32(const char* data, size_t size) {
  boost::crc_32_type crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

template <class T>
std::string encode(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  // Serializing into memory cannot fail for our plain records; inspect wants a mutable reference.
  auto err = sink(const_cast<T&>(x));
  static_cast<void>(err);
  buf.insert(buf.begin(), static_cast<char>(frame_version));
  std::string out;
  out.reserve(header_size + buf.size());
  put_u32(out, versioned_flag | static_cast<uint32_t>(buf.size()));
  put_u32(out, crc32(buf.data(), buf.size()));
  out.append(buf.data(), buf.size());
  return out;
}

enum class frame_status { ok, incomplete, bad };

// Decodes the frame at `bytes[pos]`; on ok, `next` is the offset after it.
template <class T>
frame_status decode_frame(const std::string& bytes, size_t pos, T& out, size_t& next, std::string& why) {
  auto rest = bytes.size() - pos;
  if (rest < header_size) {
    why = "short frame header";
    return frame_status::incomplete;
  }
  auto word = get_u32(bytes.data() + pos);
  bool versioned = (word & versioned_flag) != 0;
  auto len = word & ~versioned_flag;
  auto crc = get_u32(bytes.data() + pos + 4);
  if (len == 0 || len > max_payload || (versioned && len < 2)) {
    why = "bad frame length " + std::to_string(len);
    return frame_status::bad;
  }
  if (rest - header_size < len) {
    why = "frame of " + std::to_string(len) + " bytes cut short";
    return frame_status::incomplete;
  }
  const char* payload = bytes.data() + pos + header_size;
  if (crc32(payload, len) != crc) {
    why = "CRC mismatch";
    return frame_status::bad;
  }
  size_t skip = 0;
  if (versioned) {
    auto v = static_cast<uint8_t>(payload[0]);
    if (v != frame_version) {
      why = "frame format version " + std::to_string(v) + " (this agent reads versions up to " +
            std::to_string(frame_version) + ")";
      return frame_status::bad;
    }
    skip = 1;
  }
  T tmp;
  caf::binary_deserializer source{nullptr, payload + skip, len - skip};
  if (auto err = source(tmp)) {
    why = "undecodable payload";
    return frame_status::bad;
  }
  if (source.remaining() != 0) {
    why = "payload has trailing bytes";
    return frame_status::bad;
  }
  out = std::move(tmp);
  next = pos + header_size + len;
  return frame_status::ok;
}

template <class T>
std::string decode_one(const std::string& bytes, T& out) {
  T tmp;
  size_t next = 0;
  std::string why;
  if (decode_frame(bytes, 0, tmp, next, why) != frame_status::ok)
    return why;
  if (next != bytes.size())
    return std::to_string(bytes.size() - next) + " trailing bytes after the record";
  out = std::move(tmp);
  return {};
}

// A relative checkpoint path: "meta/..." with every component safe, so nothing outside <work_dir>/meta is ever
// written or removed.
bool valid_rel(const std::string& rel) {
  if (rel.compare(0, 5, "meta/") != 0)
    return false;
  size_t start = 0;
  while (start <= rel.size()) {
    auto end = rel.find('/', start);
    if (end == std::string::npos)
      end = rel.size();
    if (!is_safe_path_component(rel.substr(start, end - start)))
      return false;
    start = end + 1;
  }
  return true;
}

std::string fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno_text("cannot open directory " + dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? std::string{} : errno_text("cannot fsync directory " + dir, err);
}

// mkdir -p of the parents of `rel` under `work_dir`; every directory created is made durable by syncing its
// parent (else a crash could lose a whole new task directory together with the record just written into it).
std::string make_parents(const std::string& work_dir, const std::string& rel) {
  if (auto err = make_directories(work_dir); !err.empty())
    return err;
  std::string dir = work_dir;
  size_t start = 0;
  for (;;) {
    auto slash = rel.find('/', start);
    if (slash == std::string::npos)
      return {};
    auto parent = dir;
    dir += "/" + rel.substr(start, slash - start);
    start = slash + 1;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (auto err = fsync_dir(parent); !err.empty())
        return err;
    } else if (errno != EEXIST) {
      return errno_text("cannot create directory " + dir, errno);
    }
  }
}

// Reads a record file. Missing: "" and exists = false.
template <class T>
std::string read_record(const std::string& path, T& out, bool& exists) {
  std::string bytes;
  if (auto err = read_whole_file(path, bytes, exists); !err.empty())
    return err;
  if (!exists)
    return {};
  if (auto err = decode_record(bytes, out); !err.empty())
    return "corrupt checkpoint " + path + ": " + err;
  return {};
}

// The names of the sub-directories of `dir`, sorted (missing dir: none). Other entries (leftover .tmp files) are
// not ours to interpret.
std::string list_dirs(const std::string& dir, std::vector<std::string>& out, std::vector<std::string>& warnings) {
  out.clear();
  std::error_code ec;
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir, ec))
    return {};
  for (fs::directory_iterator i{dir, ec}, end; !ec && i != end; i.increment(ec)) {
    auto name = i->path().filename().string();
    std::error_code ec2;
    if (!i->is_directory(ec2))
      continue;
    if (!is_safe_path_component(name)) {
      warnings.push_back("skipping " + i->path().string() + ": not a valid ID");
      continue;
    }
    out.push_back(name);
  }
  if (ec)
    return "cannot list " + dir + ": " + ec.message();
  std::sort(out.begin(), out.end());
  return {};
}

} // namespace

// -- paths ---------------------------------------------------------------------------------------------------

std::string agent_record_path() {
  return "meta/agent";
}

std::string framework_dir(const framework_id& fw) {
  if (!is_safe_path_component(fw.value))
    return {};
  return join({"meta", "frameworks", fw.value});
}

std::string framework_record_path(const framework_id& fw) {
  auto dir = framework_dir(fw);
  return dir.empty() ? dir : dir + "/framework";
}

std::string executor_dir(const framework_id& fw, const executor_id& eid) {
  auto dir = framework_dir(fw);
  if (dir.empty() || !is_safe_path_component(eid.value))
    return {};
  return join({dir, "executors", eid.value});
}

std::string executor_record_path(const framework_id& fw, const executor_id& eid) {
  auto dir = executor_dir(fw, eid);
  return dir.empty() ? dir : dir + "/executor";
}

std::string task_dir(const framework_id& fw, const task_id& tid) {
  auto dir = framework_dir(fw);
  if (dir.empty() || !is_safe_path_component(tid.value))
    return {};
  return join({dir, "tasks", tid.value});
}

std::string task_record_path(const framework_id& fw, const task_id& tid) {
  auto dir = task_dir(fw, tid);
  return dir.empty() ? dir : dir + "/task";
}

std::string task_updates_path(const framework_id& fw, const task_id& tid) {
  auto dir = task_dir(fw, tid);
  return dir.empty() ? dir : dir + "/updates";
}

// -- encoding ------------------------------------------------------------------------------------------------

std::string encode_frame(const agent_record& x) {
  return encode(x);
}

std::string encode_frame(const framework_info& x) {
  return encode(x);
}

std::string encode_frame(const executor_record& x) {
  return encode(x);
}

std::string encode_frame(const task_record& x) {
  return encode(x);
}

std::string encode_frame(const update_record& x) {
  return encode(x);
}

std::string decode_record(const std::string& bytes, agent_record& out) {
  return decode_one(bytes, out);
}

std::string decode_record(const std::string& bytes, framework_info& out) {
  return decode_one(bytes, out);
}

std::string decode_record(const std::string& bytes, executor_record& out) {
  return decode_one(bytes, out);
}

std::string decode_record(const std::string& bytes, task_record& out) {
  return decode_one(bytes, out);
}

std::string decode_update_log(const std::string& bytes, std::vector<update_record>& out, bool* truncated) {
  if (truncated)
    *truncated = false;
  std::vector<update_record> result;
  size_t pos = 0;
  while (pos < bytes.size()) {
    update_record r;
    size_t next = 0;
    std::string why;
    auto st = decode_frame(bytes, pos, r, next, why);
    if (st == frame_status::ok) {
      result.push_back(std::move(r));
      pos = next;
      continue;
    }
    // A crash while appending leaves garbage only at the end. If any intact frame starts after this bad one
    // (found by trying every offset, since a damaged length field tells nothing about where the next frame
    // is), the damage is in the middle of the log: refuse to guess which updates it held.
    for (size_t p = pos + 1; p + header_size < bytes.size(); ++p) {
      update_record probe;
      size_t probe_next = 0;
      std::string probe_why;
      if (decode_frame(bytes, p, probe, probe_next, probe_why) == frame_status::ok)
        return "corrupt update log at byte " + std::to_string(pos) + " (" + why + ") before intact records";
    }
    if (truncated)
      *truncated = true;
    break;
  }
  out = std::move(result);
  return {};
}

// -- files ---------------------------------------------------------------------------------------------------

std::string write_checkpoint_file(const std::string& work_dir, const std::string& rel, const std::string& bytes) {
  if (!valid_rel(rel))
    return "invalid checkpoint path '" + rel + "'";
  // Parents first with durable entries; write_file_atomically then does tmp + fsync + rename + fsync(dir).
  if (auto err = make_parents(work_dir, rel); !err.empty())
    return err;
  return write_file_atomically(work_dir + "/" + rel, bytes);
}

std::string append_checkpoint_file(const std::string& work_dir, const std::string& rel, const std::string& bytes,
                                   bool sync) {
  if (!valid_rel(rel))
    return "invalid checkpoint path '" + rel + "'";
  if (auto err = make_parents(work_dir, rel); !err.empty())
    return err;
  auto path = work_dir + "/" + rel;
  struct stat st;
  bool created = ::stat(path.c_str(), &st) != 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno_text("cannot open " + path, errno);
  std::string err;
  struct stat before;
  off_t old_size = ::fstat(fd, &before) == 0 ? before.st_size : -1;
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = errno_text("cannot append to " + path, errno);
      break;
    }
    done += static_cast<size_t>(n);
  }
  // A partial frame (e.g. the disk filled up half-way) goes: the write is retried whole, and a torn frame in the
  // middle of the log would read as corrupt.
  if (!err.empty() && done > 0 && old_size >= 0 && ::ftruncate(fd, old_size) != 0)
    err += "; " + errno_text("cannot cut the partial record off " + path, errno);
  if (err.empty() && sync && ::fdatasync(fd) != 0)
    err = errno_text("cannot fdatasync " + path, errno);
  ::close(fd);
  // A new log's directory entry must be durable too, or the synced data could vanish with it.
  if (err.empty() && sync && created)
    err = fsync_dir(path.substr(0, path.rfind('/')));
  return err;
}

std::string remove_checkpoint_path(const std::string& work_dir, const std::string& rel) {
  if (!valid_rel(rel))
    return "invalid checkpoint path '" + rel + "'";
  return remove_tree(work_dir + "/" + rel);
}

// -- recovery ------------------------------------------------------------------------------------------------

std::string read_checkpoint(const std::string& work_dir, recovered_state& out) {
  recovered_state result;
  bool exists = false;
  if (auto err = read_record(work_dir + "/" + agent_record_path(), result.agent, exists); !err.empty())
    return err;
  if (!exists) {
    out = std::move(result);
    return {};
  }
  result.found = true;
  auto& warnings = result.warnings;
  auto frameworks_dir = work_dir + "/meta/frameworks";
  std::vector<std::string> fws;
  if (auto err = list_dirs(frameworks_dir, fws, warnings); !err.empty())
    return err;
  for (auto& fw_name : fws) {
    framework_id fw{fw_name};
    auto fw_dir = work_dir + "/" + framework_dir(fw);
    recovered_framework rf;
    if (auto err = read_record(work_dir + "/" + framework_record_path(fw), rf.info, exists); !err.empty())
      return err;
    if (!exists) {
      // The agent died between creating the directory and renaming the record into it: nothing was started.
      warnings.push_back("skipping " + fw_dir + ": no framework record");
      continue;
    }
    // A record naming another ID means files were moved or mixed up: refuse to guess. An empty ID is filled
    // from the directory name.
    if (rf.info.id.empty())
      rf.info.id = fw;
    if (rf.info.id != fw)
      return "corrupt checkpoint " + fw_dir + ": holds framework '" + rf.info.id.value + "'";
    std::vector<std::string> names;
    if (auto err = list_dirs(fw_dir + "/executors", names, warnings); !err.empty())
      return err;
    for (auto& name : names) {
      executor_id eid{name};
      recovered_executor re;
      if (auto err = read_record(work_dir + "/" + executor_record_path(fw, eid), re.record, exists); !err.empty())
        return err;
      if (!exists) {
        warnings.push_back("skipping " + work_dir + "/" + executor_dir(fw, eid) + ": no executor record");
        continue;
      }
      if (re.record.framework.empty())
        re.record.framework = fw;
      if (re.record.info.id != eid || re.record.framework != fw)
        return "corrupt checkpoint " + work_dir + "/" + executor_dir(fw, eid) + ": holds another executor";
      rf.executors.emplace(eid, std::move(re));
    }
    if (auto err = list_dirs(fw_dir + "/tasks", names, warnings); !err.empty())
      return err;
    for (auto& name : names) {
      task_id tid{name};
      recovered_task rt;
      if (auto err = read_record(work_dir + "/" + task_record_path(fw, tid), rt.record, exists); !err.empty())
        return err;
      if (!exists) {
        warnings.push_back("skipping " + work_dir + "/" + task_dir(fw, tid) + ": no task record");
        continue;
      }
      if (rt.record.framework.empty())
        rt.record.framework = fw;
      if (rt.record.info.id != tid || rt.record.framework != fw)
        return "corrupt checkpoint " + work_dir + "/" + task_dir(fw, tid) + ": holds another task";
      auto log_path = work_dir + "/" + task_updates_path(fw, tid);
      std::string bytes;
      if (auto err = read_whole_file(log_path, bytes, exists); !err.empty())
        return err;
      bool truncated = false;
      if (auto err = decode_update_log(bytes, rt.updates, &truncated); !err.empty())
        return log_path + ": " + err;
      if (truncated)
        warnings.push_back(log_path + ": dropped a torn record at its end");
      rf.tasks.emplace(tid, std::move(rt));
    }
    result.frameworks.emplace(fw, std::move(rf));
  }
  out = std::move(result);
  return {};
}

std::string clear_checkpoint(const std::string& work_dir) {
  // The agent record goes first: a crash half-way leaves no agent record, which reads as a fresh agent.
  for (auto rel : {"meta/agent", "meta/agent.tmp", "meta/frameworks"})
    if (auto err = remove_tree(work_dir + "/" + rel); !err.empty())
      return err;
  std::error_code ec;
  if (std::filesystem::is_directory(work_dir + "/meta", ec))
    return fsync_dir(work_dir + "/meta");
  return {};
}

std::string read_boot_id() {
  std::string text;
  bool exists = false;
  if (!read_whole_file("/proc/sys/kernel/random/boot_id", text, exists).empty() || !exists)
    return {};
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

} // namespace mesoscaf
