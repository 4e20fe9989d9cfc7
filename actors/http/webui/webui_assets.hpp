// The master's web UI, compiled into the binary (assets in this directory, embedded at build time). The HTTP server
// answers `/` and `/static/...` from here; no CAF in this header.
#pragma once

#include <string_view>

namespace mesoscaf {

struct webui_asset {
  std::string_view path;          ///< The canonical URL path: `/index.html`, `/static/app.js`, `/static/app.css`.
  std::string_view content_type;  ///< For the `Content-Type` header, with the charset.
  std::string_view body;
};

/// The asset served at `url_path` (`/` and `/index.html` give the page; a `?query` is ignored), or nullptr.
const webui_asset* find_webui_asset(std::string_view url_path);

} // namespace mesoscaf
