#include "collector/store/sqlite.h"

namespace ss::collector::sqlite {

Result<void> exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return errorf("sqlite: {}: {}", msg, sql);
  }
  return {};
}

Result<sqlite3*> open_connection(const std::string& path, OpenFlags o) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (o.serialized ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX) |
              (o.create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return errorf("cannot open database {}: {}", path, msg);
  }
  sqlite3_busy_timeout(db, o.busy_timeout_ms);
  return db;
}

std::string text_column(sqlite3_stmt* s, int i) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p) : std::string();
}

std::string_view blob_column(sqlite3_stmt* s, int i) {
  auto p = static_cast<const char*>(sqlite3_column_blob(s, i));
  return p ? std::string_view(p, sqlite3_column_bytes(s, i)) : std::string_view();
}

}  // namespace ss::collector::sqlite
