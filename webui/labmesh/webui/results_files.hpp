#pragma once
// ResultsFiles: the results repository (DATA_DIR/results/<job_id>-<owner>/<host>/...) served
// read-only under /results/ - the drill-down from a result to its files.
//
//   GET/HEAD /results/[dir/...]   directory listing: HTML (directories first, then files, by
//                                 name; escaped names, percent-encoded links, sizes, mtimes, a
//                                 link to the parent), or JSON with ?format=json or
//                                 "Accept: application/json":
//                                 [{"name","type":"dir"|"file","size","mtime_ms","link"}]
//   GET/HEAD /results/dir/file    the file, streamed from disk, with a single "Range: bytes="
//                                 honoured (206 / 416) for tailing live logs
// Other methods are 405. Paths are resolved by results_path.hpp: anything that climbs out,
// smuggles a separator or meets a symlink is 403, a missing one 404; errors are JSON
// {"error", "code"} like the API's.
//
// Uploaded files are untrusted: no file is ever served as HTML (.html and .svg are text/plain)
// and every file response carries "Content-Security-Policy: sandbox" and
// "X-Content-Type-Options: nosniff", so nothing uploaded can run script in the coordinator's
// origin (this matters for XML too, which browsers render and which may embed XHTML).
//
// Thread-safe and stateless apart from the root; nothing here writes to the repository.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "labmesh/webui/http_types.hpp"
#include "labmesh/webui/results_path.hpp"

namespace labmesh::webui {

// "a b/<c>" -> "a%20b%2F%3Cc%3E": every byte but A-Z a-z 0-9 - . _ ~ escaped, so a name is
// always one path segment of a link.
std::string PercentEncodeSegment(std::string_view segment);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

// The link to `name` inside the directory `dir` (decoded segments): "/results/12-ann/lab-1/"
// for a directory, ".../status.log" for a file.
std::string ResultsLink(const std::vector<std::string>& dir, std::string_view name, NodeType type);

// The listing of directory `dir` as a complete HTML page and as JSON.
std::string ListingHtml(const std::vector<std::string>& dir, const std::vector<DirEntry>& entries,
                        bool truncated);
nlohmann::json ListingJson(const std::vector<std::string>& dir,
                           const std::vector<DirEntry>& entries);

// The Content-Type for a file called `name` whose first bytes are `head` (up to 512 are looked
// at, for names with no known extension): text/plain; charset=utf-8 for logs and other text
// (status.log, keyval, .log, .txt, .tap, and .html/.htm/.svg/.js on purpose), application/xml,
// application/json, a few image and archive types, else text/plain when `head` is UTF-8 text
// without NUL bytes and application/octet-stream when it is not.
std::string ContentTypeFor(std::string_view name, std::string_view head);

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

enum class RangeKind { kWhole, kPartial, kUnsatisfiable };

// Interprets a Range header for a file of `size` bytes. A single "bytes=first-last",
// "bytes=first-" or "bytes=-suffix" is kPartial (with *range set, `last` clamped to the end) or
// kUnsatisfiable (first at or past the end, or an empty suffix); anything else - another unit,
// several ranges, bad syntax - is kWhole: RFC 9110 lets a server ignore a Range it does not take.
RangeKind ParseRange(std::string_view header, uint64_t size, ByteRange* range);

class ResultsFiles {
 public:
  // `root` is the results repository (DATA_DIR/results); a relative one is made absolute now,
  // so a later chdir does not move it.
  explicit ResultsFiles(std::string root);

  // Answers a request whose path IsResultsPath(). Never throws anything but bad_alloc.
  HttpResponse Handle(const HttpRequest& request) const;

  const std::string& root() const { return root_; }

 private:
  HttpResponse ServeDirectory(const HttpRequest& request, const ResultsTarget& target,
                              const OpenedNode& node) const;
  HttpResponse ServeFile(const HttpRequest& request, const ResultsTarget& target,
                         OpenedNode node) const;

  std::string root_;
};

}  // namespace labmesh::webui
