// A batch framework doing real work with many short tasks: a parallel word count.
//
//   demo_wordcount [--master=HOST:PORT] [--agents=N] [--input=DIR] [--chunk-lines=N] [--work-dir=DIR]
//
// It splits the text files of --input (default /usr/share/common-licenses, or generated text if that is
// missing) into chunks of --chunk-lines lines under <work-dir>/input, runs one task per chunk
// (`LC_ALL=C wc -w < chunk > result.tmp && mv result.tmp result`: each task writes its count into the results
// directory given on its command line), merges the counts, and checks the total against a direct count done
// in this process. Prints `progress: <done>/<total> chunks` lines, then
//   wordcount: total words=<n> chunks=<k> (direct count <n>) OK
// and exits 0 iff the totals agree and every task finished. Without --master it starts an in-process cluster
// with --agents agents (default 3).
#include "example_common.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

using namespace mesoscaf;
namespace fs = std::filesystem;

namespace {

const char* usage = "usage: demo_wordcount [--master=HOST:PORT] [--agents=N] [--input=DIR] [--chunk-lines=N] "
                    "[--work-dir=DIR]\n";

/// Same rule as `LC_ALL=C wc -w`: words are maximal runs of bytes that are not C-locale whitespace.
uint64_t count_words(const std::string& text) {
  uint64_t n = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    if (!space && !in_word)
      ++n;
    in_word = !space;
  }
  return n;
}

std::string read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Splits every regular file of `input` into chunks of `lines` lines; returns the chunk paths and adds the
/// words of all input to `direct`.
std::vector<fs::path> make_chunks(const fs::path& input, const fs::path& out, size_t lines, uint64_t& direct) {
  std::vector<fs::path> chunks;
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(input, ec))
    for (auto& e : fs::directory_iterator(input, ec))
      if (e.is_regular_file(ec))
        files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (auto& f : files)
    texts.push_back(read_file(f));
  if (texts.empty()) {
    // Generated input: deterministic pseudo-text.
    std::ostringstream ss;
    const char* words[] = {"cluster", "resource", "offer", "task", "agent", "master", "framework", "actor"};
    for (int i = 0; i < 5000; ++i) {
      ss << words[(i * 7) % 8] << ' ' << words[(i * 3) % 8] << (i % 11 == 0 ? "\n" : " ");
    }
    texts.push_back(ss.str());
  }
  fs::create_directories(out);
  size_t index = 0;
  for (auto& text : texts) {
    direct += count_words(text);
    std::istringstream in{text};
    std::string line;
    std::string chunk;
    size_t n = 0;
    auto flush = [&] {
      if (chunk.empty())
        return;
      char name[32];
      std::snprintf(name, sizeof(name), "chunk-%05zu.txt", index++);
      std::ofstream o{out / name, std::ios::binary};
      o << chunk;
      chunks.push_back(out / name);
      chunk.clear();
      n = 0;
    };
    while (std::getline(in, line)) {
      chunk += line;
      chunk += '\n';
      if (++n == lines)
        flush();
    }
    flush();
  }
  return chunks;
}

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s)
    r += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return r + "'";
}

class wordcount_framework : public scheduler {
public:
  wordcount_framework(std::vector<fs::path> chunks, fs::path results)
    : chunks_(std::move(chunks)), results_(std::move(results)) {
    per_task_ = *resource_set::parse("cpus:0.1;mem:16");
  }

  void resource_offers(scheduler_driver* driver, const std::vector<offer>& offers) override {
    for (auto& o : offers) {
      auto left = o.resources;
      std::vector<task_info> tasks;
      while (next_ < chunks_.size() && left.contains(per_task_)) {
        left -= per_task_;
        auto& chunk = chunks_[next_];
        auto result = results_ / (chunk.stem().string() + ".count");
        task_info t;
        t.id = task_id{"wc-" + chunk.stem().string()};
        t.name = t.id.value;
        t.agent = o.agent;
        t.resources = per_task_;
        command_info c;
        c.value = "LC_ALL=C wc -w < " + shell_quote(chunk.string()) + " > " + shell_quote(result.string() + ".tmp")
                  + " && mv " + shell_quote(result.string() + ".tmp") + " " + shell_quote(result.string());
        t.command = c;
        tasks.push_back(std::move(t));
        ++next_;
      }
      if (tasks.empty())
        driver->decline_offer(o.id, filters{next_ < chunks_.size() ? 0.5 : 60});
      else
        driver->launch_tasks({o.id}, tasks, filters{0});
    }
    if (next_ == chunks_.size())
      driver->suppress_offers();
  }

  void status_update(scheduler_driver* driver, const task_status& s) override {
    if (!is_terminal(s.state))
      return;
    if (s.state != task_state::finished) {
      std::cout << "wordcount: task " << s.task << " ended " << to_string(s.state) << ": " << s.message
                << std::endl;
      failed_ = true;
      driver->stop();
      return;
    }
    ++done_;
    auto step = std::max<size_t>(1, chunks_.size() / 10);
    if (done_ % step == 0 || done_ == chunks_.size())
      std::cout << "progress: " << done_ << "/" << chunks_.size() << " chunks" << std::endl;
    if (done_ == chunks_.size())
      driver->stop();
  }

  void error(scheduler_driver*, const std::string& message) override {
    std::cout << "wordcount: error: " << message << std::endl;
  }

  bool ok() const { return !failed_ && done_ == chunks_.size(); }

private:
  std::vector<fs::path> chunks_;
  fs::path results_;
  resource_set per_task_;
  size_t next_ = 0;   // callbacks only; read by main after join()
  size_t done_ = 0;
  bool failed_ = false;
};

} // namespace

int main(int argc, char** argv) {
  auto flags = examples::parse_flags(argc, argv, {"master", "agents", "input", "chunk-lines", "work-dir"}, usage);
  if (!flags)
    return 2;
  auto agents = examples::parse_count((*flags)["agents"].empty() ? "3" : (*flags)["agents"], 1, 64);
  auto lines = examples::parse_count((*flags)["chunk-lines"].empty() ? "100" : (*flags)["chunk-lines"], 1, 10000000);
  if (!agents || !lines) {
    std::cerr << "--agents must be 1..64, --chunk-lines 1..10000000\n" << usage;
    return 2;
  }
  std::string input = (*flags)["input"].empty() ? "/usr/share/common-licenses" : (*flags)["input"];
  examples::environment env;
  local_cluster_options copts;
  copts.agents = static_cast<size_t>(*agents);
  copts.work_dir = (*flags)["work-dir"];
  copts.keep_work_dir = true;  // the results stay there for a look after the run (printed below)
  copts.allocation_interval = std::chrono::milliseconds(100);
  if (!env.start((*flags)["master"], copts))
    return 1;
  fs::path root = !(*flags)["work-dir"].empty() ? fs::path{(*flags)["work-dir"]}
                  : env.cluster                 ? fs::path{env.cluster->work_dir()}
                                                : fs::temp_directory_path() / ("mesoscaf-wordcount-" + new_uuid());
  root = fs::absolute(root) / "wordcount";
  std::error_code ec;
  fs::remove_all(root, ec);
  uint64_t direct = 0;
  auto chunks = make_chunks(input, root / "input", static_cast<size_t>(*lines), direct);
  fs::create_directories(root / "results");
  std::cout << "wordcount: " << chunks.size() << " chunks from " << input << ", results in " << (root / "results")
            << std::endl;

  wordcount_framework sched{chunks, root / "results"};
  framework_info fw;
  fw.name = "wordcount";
  auto driver = env.make_driver(&sched, fw);
  auto started = std::chrono::steady_clock::now();
  driver->run();
  driver.reset();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (!sched.ok()) {
    std::cout << "wordcount: FAILED" << std::endl;
    return 1;
  }
  uint64_t total = 0;
  size_t merged = 0;
  for (auto& c : chunks) {
    std::ifstream in{root / "results" / (c.stem().string() + ".count")};
    uint64_t n = 0;
    if (!(in >> n)) {
      std::cout << "wordcount: missing result for " << c.filename() << std::endl;
      return 1;
    }
    total += n;
    ++merged;
  }
  bool ok = total == direct;
  std::cout << "wordcount: total words=" << total << " chunks=" << merged << " (direct count " << direct << ") "
            << (ok ? "OK" : "MISMATCH") << " in " << ms.count() << " ms" << std::endl;
  return ok ? 0 : 1;
}
