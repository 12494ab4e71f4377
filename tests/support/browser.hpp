#pragma once
// Whether this machine can run the browser tests: the page checks are Python scripts driving
// headless Chromium through Selenium, so they need /usr/bin/chromium, /usr/bin/chromedriver and
// /usr/bin/python3 with selenium (scripts/setup.sh installs all of them). Every browser test asks
// here, so they all skip with the same reason or all run - none fails on a missing module where
// another skips. Header-only, any thread.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace labmesh::testing {

// "" when everything is there; otherwise what is missing, as the reason for GTEST_SKIP.
inline std::string MissingBrowserTools() {
  std::string missing;
  auto add = [&missing](const std::string& what) {
    missing += (missing.empty() ? "" : ", ") + what;
  };
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/bin/python3"}) {
    if (::access(path, X_OK) != 0) add(path);
  }
  if (::access("/usr/bin/python3", X_OK) == 0) {
    int status = std::system("/usr/bin/python3 -c 'import selenium' >/dev/null 2>&1");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) add("python3-selenium");
  }
  if (missing.empty()) return "";
  return "browser test needs " + missing + " (scripts/setup.sh installs them)";
}

}  // namespace labmesh::testing

// Skips the calling test (or fixture SetUp) when the browser tools are missing.
#define LABMESH_SKIP_WITHOUT_BROWSER()                                                  \
  do {                                                                                  \
    if (std::string missing = ::labmesh::testing::MissingBrowserTools(); !missing.empty()) \
      GTEST_SKIP() << missing;                                                          \
  } while (false)
