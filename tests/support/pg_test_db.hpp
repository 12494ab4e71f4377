#pragma once
// The PostgreSQL-backed test runs: a test binary runs against PostgreSQL when
// LABMESH_TEST_PG_STATE names the state directory of a server started by pg_test_server.sh (the
// CTest fixture `pg_server` does that, tests/CMakeLists.txt), else against LMDB. Each TestDatabase
// is a fresh database on that server, dropped again when it goes.

#include <libpq-fe.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace labmesh::testing {

// Whether this run is the PostgreSQL one.
inline bool PgMode() {
  const char* state = ::getenv("LABMESH_TEST_PG_STATE");
  return state != nullptr && *state != '\0';
}

// The server's URL (its `postgres` database), from the state directory.
inline std::string PgServerUrl() {
  std::ifstream in(std::string(::getenv("LABMESH_TEST_PG_STATE")) + "/url");
  std::string url;
  std::getline(in, url);
  if (url.empty()) throw std::runtime_error("no PostgreSQL test server: LABMESH_TEST_PG_STATE/url");
  return url;
}

// `url` with its database replaced by `database`.
inline std::string PgUrlFor(const std::string& url, const std::string& database) {
  size_t slash = url.rfind('/');
  return url.substr(0, slash + 1) + database;
}

// Runs `sql` on `url`; the error text, "" when it worked.
inline std::string PgRun(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) return PQerrorMessage(conn.get());
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
  ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return "";
  return PQresultErrorMessage(result.get());
}

// A database of its own on the test server, made at construction and dropped at destruction.
class TestDatabase {
 public:
  TestDatabase() : server_(PgServerUrl()) {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    std::string error = PgRun(server_, "CREATE DATABASE " + name_);
    if (!error.empty()) throw std::runtime_error("CREATE DATABASE " + name_ + ": " + error);
  }
  ~TestDatabase() { PgRun(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  std::string url() const { return PgUrlFor(server_, name_); }

 private:
  std::string server_;
  std::string name_;
};

}  // namespace labmesh::testing
