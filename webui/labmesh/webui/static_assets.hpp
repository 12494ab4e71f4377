#pragma once
// The web page's files (webui/static/), compiled into the library by embed_assets.cmake so the
// coordinator serves them without touching the disk. Read-only data: any thread may call.

#include <cstddef>
#include <optional>
#include <string_view>

namespace labmesh::webui {

struct StaticAsset {
  std::string_view name;          // file name under static/, e.g. "app.js"
  std::string_view content_type;  // from the extension, with charset for text
  std::string_view body;
};

// The asset called `name` ("index.html", "app.js", "style.css"), or nullopt. Names are matched
// exactly, so no path (with "..", "/" or anything else) can reach outside the table.
std::optional<StaticAsset> FindStaticAsset(std::string_view name);

// The Content-Type for a page file, from its extension ("app.js" -> text/javascript).
std::string_view StaticContentType(std::string_view name);

namespace internal {
// Filled by the generated static_assets_data.cpp.
struct EmbeddedAsset {
  const char* name;
  const unsigned char* bytes;
  std::size_t size;
};
extern const EmbeddedAsset kEmbeddedAssets[];
extern const std::size_t kEmbeddedAssetCount;
}  // namespace internal

}  // namespace labmesh::webui
