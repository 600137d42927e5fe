#include "collector/incidents/incident_store.h"

#include <filesystem>

#include "collector/store/sqlite.h"

namespace ss::collector::incidents {

namespace {

constexpr const char* kSchema = R"(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  fs TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_start ON incidents(start_ms);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents(end_ms) WHERE end_ms IS NULL;
)";

}  // namespace

Result<std::unique_ptr<IncidentStore>> IncidentStore::open(const std::string& path) {
  if (path != ":memory:") {
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  }
  auto db = sqlite::open_connection(path, {.create = true, .serialized = true, .busy_timeout_ms = 5000});
  if (!db) return errorf("incident database: {}", db.error().message);
  if (sqlite3_exec(*db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(*db);
    sqlite3_close(*db);
    return errorf("incident database {}: {}", path, msg);
  }
  return std::unique_ptr<IncidentStore>(new IncidentStore(*db));
}

IncidentStore::~IncidentStore() { sqlite3_close(db_); }

Result<void> IncidentStore::put(const Incident& i) {
  std::lock_guard lock(mu_);
  sqlite::Stmt stmt;
  const char* sql = "INSERT OR REPLACE INTO incidents(id, kind, fs, start_ms, end_ms, body) VALUES(?,?,?,?,?,?)";
  if (!stmt.prepare(db_, sql).ok()) return errorf("incidents: {}", sqlite3_errmsg(db_));
  sqlite3_stmt* st = stmt.get();
  std::string body = to_json(i).dump();
  sqlite3_bind_text(st, 1, i.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, i.kind.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, i.fs.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, i.start_ms);
  if (i.end_ms)
    sqlite3_bind_int64(st, 5, *i.end_ms);
  else
    sqlite3_bind_null(st, 5);
  sqlite3_bind_text(st, 6, body.c_str(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE) return errorf("incidents: {}", sqlite3_errmsg(db_));
  return ok();
}

Result<std::vector<nlohmann::json>> IncidentStore::select_json(const std::string& sql, const std::vector<std::string>& text,
                                                               const std::vector<int64_t>& ints) {
  std::lock_guard lock(mu_);
  sqlite::Stmt stmt;
  if (!stmt.prepare(db_, sql.c_str()).ok()) return errorf("incidents: {}", sqlite3_errmsg(db_));
  sqlite3_stmt* st = stmt.get();
  int n = 1;
  for (const auto& v : ints) sqlite3_bind_int64(st, n++, v);
  for (const auto& t : text) sqlite3_bind_text(st, n++, t.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<nlohmann::json> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    out.push_back(nlohmann::json::parse(sqlite::text_column(st, 0), nullptr, false));
    if (out.back().is_discarded()) return errorf("incidents: a stored body is not JSON");
  }
  if (rc != SQLITE_DONE) return errorf("incidents: {}", sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<Incident>> IncidentStore::select(const std::string& sql, const std::vector<std::string>& text,
                                                    const std::vector<int64_t>& ints) {
  auto bodies = select_json(sql, text, ints);
  if (!bodies) return bodies.error();
  std::vector<Incident> out;
  out.reserve(bodies->size());
  for (const auto& j : *bodies) {
    auto inc = incident_from_json(j);
    if (!inc) return inc.error();
    out.push_back(std::move(*inc));
  }
  return out;
}

namespace {
// " WHERE …" of a query, its text parameters after ?1 (to) and ?2 (from), and the order and limit.
std::string where_of(const IncidentQuery& q, std::vector<std::string>& text) {
  std::string sql = " FROM incidents WHERE start_ms <= ?1 AND (end_ms IS NULL OR end_ms >= ?2)";
  int n = 3;
  if (!q.kind.empty()) {
    sql += " AND kind = ?" + std::to_string(n++);
    text.push_back(q.kind);
  }
  if (!q.fs.empty()) {
    sql += " AND fs = ?" + std::to_string(n++);
    text.push_back(q.fs);
  }
  return sql + " ORDER BY start_ms, id LIMIT " + std::to_string(q.limit);
}
}  // namespace

Result<std::vector<Incident>> IncidentStore::query(const IncidentQuery& q) {
  std::vector<std::string> text;
  std::string where = where_of(q, text);
  return select("SELECT body" + where, text, {q.to_ms, q.from_ms});
}

Result<std::vector<nlohmann::json>> IncidentStore::query_summaries(const IncidentQuery& q) {
  std::vector<std::string> text;
  std::string where = where_of(q, text);
  return select_json(
      "SELECT json_object('id', id, 'kind', kind, 'fs', fs, 'start', start_ms, 'end', end_ms,"
      " 'target', body->>'$.target', 'severity', body->>'$.severity', 'summary', body->>'$.summary',"
      " 'last_seen', body->>'$.last_seen', 'cost_usd', body->>'$.cost_usd',"
      " 'gpu_idle_seconds', body->>'$.gpu_idle_seconds', 'culprits', json(coalesce(body->'$.culprits', '[]')),"
      " 'victims', json(coalesce(body->'$.victims', '[]')))" + where,
      text, {q.to_ms, q.from_ms});
}

Result<std::optional<Incident>> IncidentStore::get(const std::string& id) {
  auto r = select("SELECT body FROM incidents WHERE id = ?1", {id}, {});
  if (!r) return r.error();
  if (r->empty()) return std::optional<Incident>();
  return std::optional<Incident>(std::move(r->front()));
}

Result<std::vector<Incident>> IncidentStore::open_incidents() {
  return select("SELECT body FROM incidents WHERE end_ms IS NULL ORDER BY start_ms", {}, {});
}

}  // namespace ss::collector::incidents
