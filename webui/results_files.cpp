#include "labmesh/webui/results_files.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>

#include "labmesh/common/byte_size.hpp"
#include "labmesh/webui/url.hpp"

namespace labmesh::webui {
namespace {

constexpr char kAllowedMethods[] = "GET, HEAD";
constexpr size_t kMaxListingEntries = 20'000;  // more is a page nobody reads; the rest is cut
constexpr size_t kSniffBytes = 512;
constexpr char kTextPlain[] = "text/plain; charset=utf-8";
// Files are someone's upload: even where a browser renders them (XML, images), they run in a
// sandbox with no origin, no script and nothing loaded from elsewhere.
constexpr char kFileCsp[] =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self'";
// The listing is our own HTML, but it shows uploaded names: allow nothing it does not need.
constexpr char kListingCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

HttpResponse Error(int http_status, std::string_view code, const std::string& message) {
  HttpResponse response;
  response.status = http_status;
  response.content_type = "application/json";
  nlohmann::json body = {{"error", message}, {"code", code}};
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  response.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
  return response;
}

HttpResponse Error(int http_status, const Status& status) {
  return Error(http_status, StatusCodeName(status.code()), status.message());
}

HttpResponse Error(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return Error(404, status);
    case StatusCode::kPermissionDenied:
      return Error(403, status);
    case StatusCode::kInvalidArgument:
      return Error(400, status);
    case StatusCode::kUnavailable:
      return Error(503, status);
    default:
      return Error(500, status);
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whether `head` is UTF-8 text without NUL bytes. A sequence cut by the end of `head` counts as
// text when `head` may be a prefix of a longer file.
bool LooksLikeText(std::string_view head, bool may_be_cut) {
  size_t i = 0;
  while (i < head.size()) {
    auto c = static_cast<unsigned char>(head[i]);
    if (c == 0) return false;
    size_t extra = 0;  // continuation bytes after a lead byte
    if (c >= 0x80) {
      if ((c >> 5) == 0x6) {
        extra = 1;
      } else if ((c >> 4) == 0xe) {
        extra = 2;
      } else if ((c >> 3) == 0x1e) {
        extra = 3;
      } else {
        return false;
      }
    }
    if (i + extra >= head.size() && extra > 0) return may_be_cut;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(head[i + k]) & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string UtcTime(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

// Parses a decimal number of up to 19 digits (no sign, no spaces).
bool ParseNumber(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;
  *value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    *value = *value * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string PercentEncodeSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string ResultsLink(const std::vector<std::string>& dir, std::string_view name,
                        NodeType type) {
  std::string link = std::string(kResultsPrefix) + "/";
  for (const std::string& segment : dir) link += PercentEncodeSegment(segment) + "/";
  if (!name.empty()) {
    link += PercentEncodeSegment(name);
    if (type == NodeType::kDirectory) link += "/";
  }
  return link;
}

std::string ListingHtml(const std::vector<std::string>& dir, const std::vector<DirEntry>& entries,
                        bool truncated) {
  std::string shown = std::string(kResultsPrefix) + "/";
  for (const std::string& segment : dir) shown += segment + "/";
  std::string title = HtmlEscape(shown);
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
      "</title>\n<style>body{font-family:sans-serif}td{padding:0 1em 0 0}"
      "td.n{text-align:right;font-variant-numeric:tabular-nums}</style></head>\n<body><h1>" +
      title + "</h1>\n<p><a href=\"?format=json\">JSON</a></p>\n<table>\n"
      "<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>\n";
  if (!dir.empty()) {
    std::vector<std::string> parent(dir.begin(), dir.end() - 1);
    html += "<tr><td><a href=\"" + HtmlEscape(ResultsLink(parent, "", NodeType::kDirectory)) +
            "\">../</a></td><td></td><td></td></tr>\n";
  }
  for (const DirEntry& entry : entries) {
    bool is_dir = entry.type == NodeType::kDirectory;
    html += "<tr><td><a href=\"" + HtmlEscape(ResultsLink(dir, entry.name, entry.type)) + "\">" +
            HtmlEscape(entry.name) + (is_dir ? "/" : "") + "</a></td><td class=\"n\"";
    html += is_dir ? ">-" : " title=\"" + std::to_string(entry.size) + " bytes\">" +
                                FormatBytes(entry.size);
    html += "</td><td>" + UtcTime(entry.mtime_ms) + "</td></tr>\n";
  }
  html += "</table>\n";
  if (truncated) {
    html += "<p>Only the first " + std::to_string(entries.size()) + " entries are shown.</p>\n";
  }
  return html + "</body></html>\n";
}

nlohmann::json ListingJson(const std::vector<std::string>& dir,
                           const std::vector<DirEntry>& entries) {
  nlohmann::json array = nlohmann::json::array();
  for (const DirEntry& entry : entries) {
    array.push_back({{"name", entry.name},
                     {"type", entry.type == NodeType::kDirectory ? "dir" : "file"},
                     {"size", entry.size},
                     {"mtime_ms", entry.mtime_ms},
                     {"link", ResultsLink(dir, entry.name, entry.type)}});
  }
  return array;
}

std::string ContentTypeFor(std::string_view name, std::string_view head) {
  // Autotest's and labmesh's own text files, by whole name.
  static const char* const kTextNames[] = {"status.log", "status", "keyval", "control",
                                           "DEBUG",      "INFO",   "WARNING", "ERROR"};
  for (const char* text_name : kTextNames) {
    if (name == text_name) return kTextPlain;
  }
  static const std::map<std::string, std::string, std::less<>> kByExtension = {
      // Text, including what a browser would render or run: shown as source, never executed.
      {"log", kTextPlain}, {"txt", kTextPlain}, {"tap", kTextPlain}, {"out", kTextPlain},
      {"err", kTextPlain}, {"debug", kTextPlain}, {"info", kTextPlain}, {"warning", kTextPlain},
      {"error", kTextPlain}, {"csv", kTextPlain}, {"md", kTextPlain}, {"yaml", kTextPlain},
      {"yml", kTextPlain}, {"ini", kTextPlain}, {"cfg", kTextPlain}, {"conf", kTextPlain},
      {"diff", kTextPlain}, {"patch", kTextPlain}, {"sh", kTextPlain}, {"py", kTextPlain},
      {"html", kTextPlain}, {"htm", kTextPlain}, {"xhtml", kTextPlain}, {"svg", kTextPlain},
      {"js", kTextPlain}, {"css", kTextPlain},
      {"xml", "application/xml"}, {"json", "application/json"},
      {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
      {"gz", "application/gzip"}, {"tgz", "application/gzip"}, {"tar", "application/x-tar"},
      {"bz2", "application/x-bzip2"}, {"xz", "application/x-xz"}, {"zst", "application/zstd"},
      {"zip", "application/zip"}};
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) {
    auto it = kByExtension.find(Lower(name.substr(dot + 1)));
    if (it != kByExtension.end()) return it->second;
  }
  head = head.substr(0, kSniffBytes);
  return LooksLikeText(head, head.size() == kSniffBytes) ? kTextPlain : "application/octet-stream";
}

RangeKind ParseRange(std::string_view header, uint64_t size, ByteRange* range) {
  header = Trim(header);
  size_t eq = header.find('=');
  if (eq == std::string_view::npos || Lower(Trim(header.substr(0, eq))) != "bytes") {
    return RangeKind::kWhole;
  }
  std::string_view spec = Trim(header.substr(eq + 1));
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return RangeKind::kWhole;
  }
  std::string_view first_text = Trim(spec.substr(0, dash));
  std::string_view last_text = Trim(spec.substr(dash + 1));
  uint64_t first = 0;
  uint64_t last = 0;
  if (first_text.empty()) {  // "-suffix": the last `suffix` bytes
    uint64_t suffix = 0;
    if (!ParseNumber(last_text, &suffix)) return RangeKind::kWhole;
    if (suffix == 0 || size == 0) return RangeKind::kUnsatisfiable;
    range->length = std::min(suffix, size);
    range->first = size - range->length;
    return RangeKind::kPartial;
  }
  if (!ParseNumber(first_text, &first)) return RangeKind::kWhole;
  if (last_text.empty()) {
    last = UINT64_MAX;
  } else if (!ParseNumber(last_text, &last) || last < first) {
    return RangeKind::kWhole;
  }
  if (first >= size) return RangeKind::kUnsatisfiable;
  last = std::min(last, size - 1);
  range->first = first;
  range->length = last - first + 1;
  return RangeKind::kPartial;
}

ResultsFiles::ResultsFiles(std::string root) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(root, ec);
  root_ = ec ? std::move(root) : absolute.lexically_normal().string();
}

HttpResponse ResultsFiles::Handle(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = Error(405, "MethodNotAllowed",
                                  std::string("the results repository is read-only (allowed: ") +
                                      kAllowedMethods + ")");
    response.headers.emplace_back("Allow", kAllowedMethods);
    return response;
  }
  auto target = ParseResultsTarget(request.path);
  if (!target.ok()) {
    spdlog::debug("webui: /results request refused: {}", target.status().message());
    return Error(target.status());
  }
  auto node = OpenBeneath(root_, target->segments);
  if (!node.ok()) {
    if (node.status().code() == StatusCode::kUnavailable ||
        node.status().code() == StatusCode::kInternal) {
      spdlog::warn("webui: results repository {}: {}", root_, node.status().message());
    }
    return Error(node.status());
  }
  if (node->type == NodeType::kDirectory) return ServeDirectory(request, *target, *node);
  if (target->trailing_slash) return Error(Status::NotFound("not a directory"));
  return ServeFile(request, *target, std::move(node).value());
}

HttpResponse ResultsFiles::ServeDirectory(const HttpRequest& request, const ResultsTarget& target,
                                          const OpenedNode& node) const {
  auto params = ParseQuery(request.query);
  if (!params.ok()) return Error(params.status());
  bool json = false;
  if (auto format = params->find("format"); format != params->end()) {
    if (format->second != "json" && format->second != "html") {
      return Error(Status::InvalidArgument("format must be json or html"));
    }
    json = format->second == "json";
  } else if (auto accept = FindHeader(request, "Accept")) {
    json = accept->find("application/json") != std::string_view::npos;
  }
  bool truncated = false;
  auto entries = ReadDirectory(node.fd.get(), kMaxListingEntries, &truncated);
  if (!entries.ok()) return Error(entries.status());

  HttpResponse response;
  if (json) {
    response.content_type = "application/json";
    response.body = ListingJson(target.segments, *entries)
                        .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                    "\n";
  } else {
    response.content_type = "text/html; charset=utf-8";
    response.body = ListingHtml(target.segments, *entries, truncated);
    response.headers.emplace_back("Content-Security-Policy", kListingCsp);
  }
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Vary", "Accept");
  if (truncated) response.headers.emplace_back("X-Labmesh-Truncated", "true");
  return response;
}

HttpResponse ResultsFiles::ServeFile(const HttpRequest& request, const ResultsTarget& target,
                                     OpenedNode node) const {
  auto size = static_cast<uint64_t>(node.st.st_size);
  char head[kSniffBytes];
  ssize_t got = ::pread(node.fd.get(), head, sizeof head, 0);
  std::string_view head_view(head, got > 0 ? static_cast<size_t>(got) : 0);

  HttpResponse response;
  response.content_type = ContentTypeFor(target.segments.back(), head_view);
  ByteRange range{0, size};
  if (auto header = FindHeader(request, "Range")) {
    switch (ParseRange(*header, size, &range)) {
      case RangeKind::kWhole:
        range = ByteRange{0, size};
        break;
      case RangeKind::kPartial:
        response.status = 206;
        response.headers.emplace_back(
            "Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                 std::to_string(range.first + range.length - 1) + "/" +
                                 std::to_string(size));
        break;
      case RangeKind::kUnsatisfiable: {
        HttpResponse refused = Error(416, Status::InvalidArgument("range not satisfiable"));
        refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return refused;
      }
    }
  }
  response.headers.emplace_back("Accept-Ranges", "bytes");
  response.headers.emplace_back("Cache-Control", "no-cache");  // logs grow while a job runs
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Content-Security-Policy", kFileCsp);
  response.file =
      std::make_shared<FileBody>(FileBody{std::move(node.fd), range.first, range.length});
  return response;
}

}  // namespace labmesh::webui
