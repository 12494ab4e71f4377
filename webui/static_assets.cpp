#include "labmesh/webui/static_assets.hpp"

namespace labmesh::webui {

std::string_view StaticContentType(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) { return name.ends_with(suffix); };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

std::optional<StaticAsset> FindStaticAsset(std::string_view name) {
  for (std::size_t i = 0; i < internal::kEmbeddedAssetCount; ++i) {
    const internal::EmbeddedAsset& asset = internal::kEmbeddedAssets[i];
    if (name == asset.name) {
      return StaticAsset{asset.name, StaticContentType(name),
                         std::string_view(reinterpret_cast<const char*>(asset.bytes), asset.size)};
    }
  }
  return std::nullopt;
}

}  // namespace labmesh::webui
