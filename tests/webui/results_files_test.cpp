// The /results/ drill-down without any HTTP server: path parsing, the openat walk against a
// real directory tree with symlink traps, listings, content types, ranges, and ResultsFiles.

#include "labmesh/webui/results_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "labmesh/webui/results_path.hpp"
#include "results_fixture.hpp"

namespace labmesh::webui {
namespace {

using testing::kBigFileBytes;
using testing::kSecret;
using testing::ResultsFixture;
using Segments = std::vector<std::string>;

std::string ReadAll(const FileBody& file) {
  std::string out(file.length, '\0');
  ssize_t n = ::pread(file.fd.get(), out.data(), out.size(), static_cast<off_t>(file.offset));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

HttpRequest Get(const std::string& path, const std::string& query = "") {
  return HttpRequest{"GET", path, query, "", {}};
}

// --- ParseResultsTarget ---------------------------------------------------------------------

TEST(ParseResultsTargetTest, AcceptsNormalPaths) {
  auto root = ParseResultsTarget("/results/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->segments.empty());
  EXPECT_TRUE(root->trailing_slash);
  ASSERT_TRUE(ParseResultsTarget("/results").ok());

  auto file = ParseResultsTarget("/results/12-ann/lab-1/status.log");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->segments, (Segments{"12-ann", "lab-1", "status.log"}));
  EXPECT_FALSE(file->trailing_slash);

  auto dir = ParseResultsTarget("/results/12-ann/lab-1/");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->segments, (Segments{"12-ann", "lab-1"}));
  EXPECT_TRUE(dir->trailing_slash);

  auto encoded = ParseResultsTarget("/results/a%20b/%3Cscript%3E.txt/..a/a..");
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->segments, (Segments{"a b", "<script>.txt", "..a", "a.."}));
}

TEST(ParseResultsTargetTest, DecodesExactlyOnce) {
  // "%252e%252e" is the literal name "%2e%2e", not "..".
  auto target = ParseResultsTarget("/results/%252e%252e/%252e%252e/etc/passwd");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->segments, (Segments{"%2e%2e", "%2e%2e", "etc", "passwd"}));
  auto slash = ParseResultsTarget("/results/a%252fb");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->segments, (Segments{"a%2fb"}));
}

TEST(ParseResultsTargetTest, RefusesEveryTraversalForm) {
  for (const char* path : {
           "/results/..",
           "/results/../etc/passwd",
           "/results/../../etc/passwd",
           "/results/a/../../etc/passwd",
           "/results/.",
           "/results/./a",
           "/results/a/./b",
           "/results/%2e%2e/%2e%2e/etc/passwd",
           "/results/%2E%2e%2fetc",
           "/results/%2e%2E/x",
           "/results/.%2e/x",
           "/results/%2e",
           "/results/a/..%2f..%2fetc/passwd",
           "/results/a/..%2F..%2Fetc%2Fpasswd",
           "/results/%2fetc%2fpasswd",
           "/results//etc/passwd",
           "/results/a//b",
           "/results/a\\..\\..\\etc",
           "/results/..\\etc",
           "/results/a%5c..%5cetc",
           "/results/a%5C..",
           "/results/a%00b",
           "/results/status.log%00.txt",
           "/results/a%0ab",
           "/results/a%7fb",
       }) {
    auto target = ParseResultsTarget(path);
    ASSERT_FALSE(target.ok()) << path;
    EXPECT_EQ(target.status().code(), StatusCode::kPermissionDenied)
        << path << ": " << target.status().ToString();
  }
}

TEST(ParseResultsTargetTest, MalformedEscapesAndOtherPrefixes) {
  for (const char* path : {"/results/%zz", "/results/a%2", "/results/a%"}) {
    auto target = ParseResultsTarget(path);
    ASSERT_FALSE(target.ok()) << path;
    EXPECT_EQ(target.status().code(), StatusCode::kInvalidArgument) << path;
  }
  for (const char* path : {"/results-evil/secret.txt", "/resultsx", "/api/v1/results", "", "/"}) {
    auto target = ParseResultsTarget(path);
    ASSERT_FALSE(target.ok()) << path;
    EXPECT_EQ(target.status().code(), StatusCode::kNotFound) << path;
    EXPECT_FALSE(IsResultsPath(path)) << path;
  }
  EXPECT_TRUE(IsResultsPath("/results"));
  EXPECT_TRUE(IsResultsPath("/results/x"));
}

// --- OpenBeneath and ReadDirectory against a real tree ---------------------------------------

class ResultsTreeTest : public ::testing::Test {
 protected:
  ResultsFixture tree_;
};

TEST_F(ResultsTreeTest, OpensFilesAndDirectoriesInside) {
  auto file = OpenBeneath(tree_.root(), {"12-ann", "lab-1", "keyval"});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->type, NodeType::kFile);
  EXPECT_EQ(ReadAll(FileBody{std::move(file->fd), 0, 13}), "iterations=3\n");

  auto dir = OpenBeneath(tree_.root(), {"12-ann", "lab-1", "debug"});
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->type, NodeType::kDirectory);
  auto root = OpenBeneath(tree_.root(), {});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->type, NodeType::kDirectory);
}

TEST_F(ResultsTreeTest, MissingAndThroughAFileAreNotFound) {
  for (const Segments& path : {Segments{"nope"}, Segments{"12-ann", "lab-9"},
                               Segments{"12-ann", "lab-1", "keyval", "x"},
                               Segments{"%2e%2e", "%2e%2e", "etc", "passwd"}}) {
    auto node = OpenBeneath(tree_.root(), path);
    ASSERT_FALSE(node.ok());
    EXPECT_EQ(node.status().code(), StatusCode::kNotFound) << node.status().ToString();
  }
}

TEST_F(ResultsTreeTest, RefusesSymlinksAnywhereAndSpecialFiles) {
  for (const Segments& path : {
           Segments{"12-ann", "lab-1", "etc"},            // -> /etc
           Segments{"12-ann", "lab-1", "etc", "passwd"},  // through it
           Segments{"12-ann", "lab-1", "secret"},         // -> ../../../outside/secret.txt
           Segments{"linked"},                            // symlinked directory
           Segments{"linked", "secret.txt"},
           Segments{"inside", "lab-1", "keyval"},  // points inside, refused all the same
           Segments{"fifo"},                       // must not block on open
       }) {
    auto node = OpenBeneath(tree_.root(), path);
    ASSERT_FALSE(node.ok()) << path.back();
    EXPECT_EQ(node.status().code(), StatusCode::kPermissionDenied) << node.status().ToString();
  }
}

TEST_F(ResultsTreeTest, MissingRootIsUnavailable) {
  auto node = OpenBeneath(tree_.root() + "/does-not-exist", {});
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), StatusCode::kUnavailable);
}

TEST_F(ResultsTreeTest, DirectoryListingIsSortedDirectoriesFirstWithoutSymlinks) {
  tree_.Write("12-ann/lab-1/A-upper.txt", "");
  auto dir = OpenBeneath(tree_.root(), {"12-ann", "lab-1"});
  ASSERT_TRUE(dir.ok());
  bool truncated = true;
  auto entries = ReadDirectory(dir->fd.get(), 1000, &truncated);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_FALSE(truncated);
  std::vector<std::string> names;
  for (const DirEntry& entry : *entries) names.push_back(entry.name);
  EXPECT_EQ(names, (Segments{"debug", "<script>.txt", "A-upper.txt", "big.log", "keyval",
                             "page.html", "status.log"}));
  EXPECT_EQ((*entries)[0].type, NodeType::kDirectory);
  EXPECT_EQ((*entries)[0].size, 0u);
  EXPECT_EQ((*entries)[3].size, kBigFileBytes);
  EXPECT_GT((*entries)[3].mtime_ms, 1'600'000'000'000);

  auto root = OpenBeneath(tree_.root(), {});
  ASSERT_TRUE(root.ok());
  auto top = ReadDirectory(root->fd.get(), 1000, &truncated);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);  // linked, inside and fifo are left out
  EXPECT_EQ((*top)[0].name, "12-ann");

  auto cut = ReadDirectory(dir->fd.get(), 2, &truncated);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->size(), 2u);
  EXPECT_TRUE(truncated);
}

// --- rendering ------------------------------------------------------------------------------

TEST(ResultsListingTest, EncodesLinksAndEscapesNames) {
  EXPECT_EQ(PercentEncodeSegment("a b/<c>%.~_-"), "a%20b%2F%3Cc%3E%25.~_-");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(ResultsLink({"12-ann", "lab 1"}, "debug", NodeType::kDirectory),
            "/results/12-ann/lab%201/debug/");
  EXPECT_EQ(ResultsLink({}, "", NodeType::kDirectory), "/results/");

  std::vector<DirEntry> entries = {{"sub", NodeType::kDirectory, 0, 0},
                                   {"<script>.txt", NodeType::kFile, 2048, 1'700'000'000'000},
                                   {"a\"b'&.log", NodeType::kFile, 5, 0}};
  std::string html = ListingHtml({"12-ann", "<lab>"}, entries, false);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<lab>"), std::string::npos);
  EXPECT_NE(html.find(">&lt;script&gt;.txt</a>"), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"/results/12-ann/%3Clab%3E/%3Cscript%3E.txt\""), std::string::npos);
  EXPECT_NE(html.find(">a&quot;b&#39;&amp;.log</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/results/12-ann/%3Clab%3E/sub/\">sub/</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/results/12-ann/\">../</a>"), std::string::npos);  // parent
  EXPECT_NE(html.find("2.0 KiB"), std::string::npos);
  EXPECT_NE(html.find("2023-11-14 22:13:20"), std::string::npos);
  EXPECT_LT(html.find("sub/</a>"), html.find("script&gt;.txt"));
  EXPECT_EQ(ListingHtml({}, {}, false).find("../"), std::string::npos);  // no parent at the top

  auto json = ListingJson({"12-ann"}, entries);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[0]["type"], "dir");
  EXPECT_EQ(json[0]["link"], "/results/12-ann/sub/");
  EXPECT_EQ(json[1]["name"], "<script>.txt");
  EXPECT_EQ(json[1]["type"], "file");
  EXPECT_EQ(json[1]["size"], 2048);
  EXPECT_EQ(json[1]["mtime_ms"], 1'700'000'000'000);
  EXPECT_EQ(json[1]["link"], "/results/12-ann/%3Cscript%3E.txt");
}

TEST(ContentTypeTest, TextIsPlainAndNothingIsHtml) {
  const std::string text = "text/plain; charset=utf-8";
  for (const char* name : {"status.log", "keyval", "x.log", "X.LOG", "a.txt", "t.tap",
                           "client.DEBUG", "page.html", "p.HTM", "pic.svg", "app.js"}) {
    EXPECT_EQ(ContentTypeFor(name, "\x01\x02"), text) << name;
  }
  EXPECT_EQ(ContentTypeFor("results.xml", ""), "application/xml");
  EXPECT_EQ(ContentTypeFor("r.json", ""), "application/json");
  EXPECT_EQ(ContentTypeFor("a.png", ""), "image/png");
  EXPECT_EQ(ContentTypeFor("logs.tar.gz", ""), "application/gzip");
  // No known extension: decided by the first bytes.
  EXPECT_EQ(ContentTypeFor("uname", "Linux lab-1 6.1.0 \xc3\xa9\n"), text);
  EXPECT_EQ(ContentTypeFor("core", std::string("\x7f" "ELF\0\0", 6)), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("blob", "\xff\xfe"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".hidden", ""), text);
}

TEST(ParseRangeTest, SingleRangesAndWhatIsIgnored) {
  ByteRange range;
  EXPECT_EQ(ParseRange("bytes=0-99", 1000, &range), RangeKind::kPartial);
  EXPECT_EQ(range.first, 0u);
  EXPECT_EQ(range.length, 100u);
  EXPECT_EQ(ParseRange("bytes=900-", 1000, &range), RangeKind::kPartial);
  EXPECT_EQ(range.first, 900u);
  EXPECT_EQ(range.length, 100u);
  EXPECT_EQ(ParseRange("bytes=-10", 1000, &range), RangeKind::kPartial);  // the tail
  EXPECT_EQ(range.first, 990u);
  EXPECT_EQ(range.length, 10u);
  EXPECT_EQ(ParseRange("bytes=-5000", 1000, &range), RangeKind::kPartial);
  EXPECT_EQ(range.first, 0u);
  EXPECT_EQ(range.length, 1000u);
  EXPECT_EQ(ParseRange("Bytes = 10-5000", 1000, &range), RangeKind::kPartial);
  EXPECT_EQ(range.length, 990u);

  EXPECT_EQ(ParseRange("bytes=1000-", 1000, &range), RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 1000, &range), RangeKind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0, &range), RangeKind::kUnsatisfiable);

  for (const char* ignored : {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=",
                              "bytes=-", "bytes=--1", "bytes=99999999999999999999-", "0-1"}) {
    EXPECT_EQ(ParseRange(ignored, 1000, &range), RangeKind::kWhole) << ignored;
  }
}

// --- ResultsFiles ---------------------------------------------------------------------------

class ResultsFilesTest : public ResultsTreeTest {
 protected:
  ResultsFiles files_{tree_.root()};
};

TEST_F(ResultsFilesTest, ServesAFileAsAStreamedBody) {
  HttpResponse response = files_.Handle(Get("/results/12-ann/lab-1/status.log"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
  ASSERT_NE(response.file, nullptr);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(ReadAll(*response.file), "START\t----\tsleeptest\nEND GOOD\t----\tsleeptest\n");
  EXPECT_EQ(response.body_length(), response.file->length);
}

TEST_F(ResultsFilesTest, UploadedHtmlCannotRunInOurOrigin) {
  HttpResponse response = files_.Handle(Get("/results/12-ann/lab-1/page.html"));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
  bool sandboxed = false;
  bool nosniff = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "Content-Security-Policy") sandboxed = value.rfind("sandbox", 0) == 0;
    if (name == "X-Content-Type-Options") nosniff = value == "nosniff";
  }
  EXPECT_TRUE(sandboxed);
  EXPECT_TRUE(nosniff);
}

TEST_F(ResultsFilesTest, RangeAndMethods) {
  HttpRequest request = Get("/results/12-ann/lab-1/keyval");
  request.headers = {{"range", "bytes=-2"}};
  HttpResponse tail = files_.Handle(request);
  EXPECT_EQ(tail.status, 206);
  ASSERT_NE(tail.file, nullptr);
  EXPECT_EQ(ReadAll(*tail.file), "3\n");

  request.headers = {{"Range", "bytes=500-"}};
  EXPECT_EQ(files_.Handle(request).status, 416);

  request.method = "POST";
  HttpResponse post = files_.Handle(request);
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.file, nullptr);
  request.method = "DELETE";
  EXPECT_EQ(files_.Handle(request).status, 405);
}

TEST_F(ResultsFilesTest, DirectoriesListAsHtmlOrJson) {
  HttpResponse html = files_.Handle(Get("/results/12-ann/"));
  ASSERT_EQ(html.status, 200);
  EXPECT_EQ(html.content_type, "text/html; charset=utf-8");
  EXPECT_NE(html.body.find("lab-1/</a>"), std::string::npos);

  HttpResponse json = files_.Handle(Get("/results/12-ann", "format=json"));
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(json.body)[1]["link"], "/results/12-ann/lab-2/");

  HttpRequest accept = Get("/results/");
  accept.headers = {{"Accept", "application/json"}};
  EXPECT_EQ(files_.Handle(accept).content_type, "application/json");
  EXPECT_EQ(files_.Handle(Get("/results/", "format=xml")).status, 400);
}

TEST_F(ResultsFilesTest, RefusalsNeverServeTheSecret) {
  for (const char* path : {"/results/../outside/secret.txt", "/results/linked/secret.txt",
                           "/results/12-ann/lab-1/secret", "/results/12-ann/lab-1/etc/passwd",
                           "/results/%2e%2e/results-evil/secret.txt", "/results/fifo",
                           "/results/12-ann/lab-1/keyval/", "/results/nope"}) {
    HttpResponse response = files_.Handle(Get(path));
    EXPECT_TRUE(response.status == 403 || response.status == 404) << path << ": " << response.body;
    EXPECT_EQ(response.file, nullptr) << path;
    EXPECT_EQ(response.body.find(kSecret), std::string::npos) << path;
  }
}

TEST(ResultsFilesRootTest, RelativeRootIsMadeAbsolute) {
  ResultsFiles files("var/results");
  EXPECT_EQ(files.root().front(), '/');
}

}  // namespace
}  // namespace labmesh::webui
