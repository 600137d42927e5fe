// A small wrapper of SQLite's C API shared by the store and the incident store: a prepared statement that
// finalizes itself, exec() of a script, opening a connection, and reading text and blob columns.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace ss::collector::sqlite {

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  Result<void> prepare(sqlite3* db, const char* sql) {
    sqlite3_finalize(s_);
    s_ = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      return errorf("sqlite: {}: {}", sqlite3_errmsg(db), sql);
    return {};
  }
  sqlite3_stmt* get() const { return s_; }
  void finalize() {
    sqlite3_finalize(s_);
    s_ = nullptr;
  }
  // Resets and clears bindings so the statement can be reused.
  sqlite3_stmt* fresh() const {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return s_;
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Runs a script of statements; the error names the SQL.
Result<void> exec(sqlite3* db, const char* sql);

struct OpenFlags {
  bool create = false;            // create the file when missing
  bool serialized = false;        // SQLITE_OPEN_FULLMUTEX (the connection is shared between threads)
  int busy_timeout_ms = 10'000;   // how long a statement waits for another connection's lock
};
// A read-write connection to the database file `path` (":memory:" for one in memory).
Result<sqlite3*> open_connection(const std::string& path, OpenFlags flags);

// Column i of the current row as text ("" when NULL) or as a view of its blob (valid until the next step).
std::string text_column(sqlite3_stmt* s, int i);
std::string_view blob_column(sqlite3_stmt* s, int i);

}  // namespace ss::collector::sqlite
