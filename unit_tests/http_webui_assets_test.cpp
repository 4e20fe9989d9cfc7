// The web UI compiled into the binary: find_webui_asset answers the page and its two static files, byte for byte as
// in actors/http/webui/, with their content types, and nothing else; the page loads only what ships with it.
#define CAF_SUITE http_webui_assets
#include "test.hpp"

#include "actors/http/webui/webui_assets.hpp"

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

using namespace mesoscaf;

namespace {

std::string source_asset(const std::string& name) {
  std::ifstream in{std::string{MESOSCAF_SOURCE_DIR} + "/actors/http/webui/" + name, std::ios::binary};
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void check_asset(std::string_view url, const std::string& file, std::string_view content_type) {
  auto asset = find_webui_asset(url);
  REQUIRE(asset != nullptr);
  CHECK_EQUAL(asset->content_type, content_type);
  CHECK(asset->body == source_asset(file));
}

} // namespace

TEST(the page is served at the root and as index html) {
  check_asset("/", "index.html", "text/html; charset=utf-8");
  check_asset("/index.html", "index.html", "text/html; charset=utf-8");
  CHECK_EQUAL(find_webui_asset("/"), find_webui_asset("/index.html"));
  CHECK_EQUAL(find_webui_asset("/")->path, "/index.html");
}

TEST(the script and the style sheet are served below static) {
  check_asset("/static/app.js", "app.js", "text/javascript; charset=utf-8");
  check_asset("/static/app.css", "app.css", "text/css; charset=utf-8");
}

TEST(a query string does not change the asset) {
  CHECK_EQUAL(find_webui_asset("/static/app.js?v=2"), find_webui_asset("/static/app.js"));
  CHECK_EQUAL(find_webui_asset("/?x=1"), find_webui_asset("/index.html"));
}

TEST(any other path has no asset) {
  for (auto path : {"", "/static", "/static/", "/static/missing.js", "/app.js", "/index.htm", "/STATIC/app.js",
                    "/static/app.js/", "/static/../index.html", "static/app.js", "/state", "/index.html/x"})
    CHECK(find_webui_asset(path) == nullptr);
}

TEST(the page loads only assets that ship with it) {
  // Every src and href of the page is a hash route or a relative path the binary serves: no network beyond it.
  auto page = std::string{find_webui_asset("/")->body};
  std::regex reference{R"re((src|href)="([^"]*)")re"};
  size_t static_references = 0;
  for (std::sregex_iterator it{page.begin(), page.end(), reference}, end; it != end; ++it) {
    auto target = (*it)[2].str();
    if (target.rfind("#", 0) == 0)
      continue;
    MESSAGE("the page references " << target);
    CHECK(find_webui_asset("/" + target) != nullptr);
    ++static_references;
  }
  CHECK_EQUAL(static_references, 2u);
}
