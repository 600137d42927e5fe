// The first Store: SQLite rows. A series dictionary (kept in memory too, for select), points in a
// WITHOUT ROWID table clustered by (series_id, ts), events, and the last seq per (node, stream).
// One writer thread owns the write connection and commits whatever appends are waiting as one
// transaction (group commit); callers wake only after COMMIT. Readers use their own connections.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <atomic>
#include <nlohmann/json.hpp>
#include <regex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "collector/store/store.h"
#include "common/log.h"

namespace ss::collector {
namespace {

using json = nlohmann::json;

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
      error_ = fmt::format("{}: {}", sql, sqlite3_errmsg(db));
      s_ = nullptr;
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : s_(o.s_), error_(std::move(o.error_)) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    std::swap(error_, o.error_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() const { return s_; }
  const std::string& error() const { return error_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  std::string error_;
};

Result<sqlite3*> open_connection(const std::string& path, bool writer) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return errorf("cannot open database {}: {}", path, msg);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

Result<void> exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return errorf("sqlite: {}: {}", msg, sql);
  }
  return {};
}

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labels TEXT NOT NULL,
  type INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS points(
  series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,
  PRIMARY KEY(series_id, ts)) WITHOUT ROWID, STRICT;
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
  labels TEXT NOT NULL, fields TEXT NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS events_by_kind ON events(kind, ts);
CREATE INDEX IF NOT EXISTS events_by_ts ON events(ts);
CREATE TABLE IF NOT EXISTS streams(
  node TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(node, stream)) WITHOUT ROWID, STRICT;
)sql";

std::string labels_to_json(const Labels& labels) {
  json o = json::object();
  for (const auto& [k, v] : labels) o[k] = v;
  return o.dump();
}

Labels labels_from_json(const char* text) {
  Labels labels;
  json o = json::parse(text ? text : "{}", nullptr, false);
  if (o.is_object())
    for (const auto& [k, v] : o.items()) labels.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return labels;  // json objects iterate sorted by key
}

Labels with_node(const Labels& labels, const std::string& node) {
  Labels out;
  out.reserve(labels.size() + 1);
  bool placed = false;
  for (const auto& l : labels) {
    if (!placed && l.first > "node") {
      out.emplace_back("node", node);
      placed = true;
    }
    if (l.first != "node") out.push_back(l);
  }
  if (!placed) out.emplace_back("node", node);
  return out;
}

std::string text_column(sqlite3_stmt* s, int i) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p) : std::string();
}

int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  ~SqliteStore() override { close(); }

  Result<void> open() {
    auto db = open_connection(path_, true);
    if (!db) return db.error();
    writer_db_ = *db;
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY",
                            "PRAGMA cache_size=-131072"}) {
      if (auto r = exec(writer_db_, sql); !r) return r;
    }
    if (auto r = exec(writer_db_, kSchema); !r) return r;
    if (auto r = load(); !r) return r;
    insert_point_ = Stmt(writer_db_, "INSERT OR IGNORE INTO points(series_id, ts, value) VALUES(?1, ?2, ?3)");
    insert_series_ = Stmt(writer_db_, "INSERT INTO series(id, key, name, labels, type) VALUES(?1, ?2, ?3, ?4, ?5)");
    insert_event_ =
        Stmt(writer_db_, "INSERT INTO events(ts, kind, node, labels, fields) VALUES(?1, ?2, ?3, ?4, ?5)");
    upsert_stream_ = Stmt(writer_db_,
                          "INSERT INTO streams(node, stream, seq) VALUES(?1, ?2, ?3) "
                          "ON CONFLICT(node, stream) DO UPDATE SET seq = excluded.seq");
    for (const Stmt* s : {&insert_point_, &insert_series_, &insert_event_, &upsert_stream_})
      if (!s->get()) return Error{"sqlite: " + s->error()};
    writer_ = std::thread([this] { write_loop(); });
    return {};
  }

  Result<AppendOutcome> append(const Batch& batch) override {
    Pending p;
    p.batch = &batch;
    {
      std::unique_lock lock(queue_mu_);
      if (closed_) return Error{"the store is closed"};
      queue_.push_back(&p);
    }
    queue_cv_.notify_one();
    std::unique_lock lock(queue_mu_);
    done_cv_.wait(lock, [&] { return p.done; });
    if (!p.error.empty()) return Error{p.error};
    return p.outcome;
  }

  Result<std::vector<SeriesInfo>> select(const std::string& name, const std::vector<Matcher>& matchers) override {
    std::vector<std::pair<const Matcher*, std::regex>> compiled;
    compiled.reserve(matchers.size());
    for (const auto& m : matchers) {
      std::regex re;
      if (m.op == Matcher::Op::Re || m.op == Matcher::Op::Nre) {
        try {
          re = std::regex(m.value, std::regex::ECMAScript | std::regex::optimize);
        } catch (const std::regex_error& e) {
          return errorf("matcher {}: invalid regular expression \"{}\": {}", m.label, m.value, e.what());
        }
      }
      compiled.emplace_back(&m, std::move(re));
    }
    auto matches = [&](const SeriesInfo& s) {
      for (const auto& [m, re] : compiled) {
        std::string v(m->label == "__name__" ? std::string_view(s.name) : label_value(s.labels, m->label));
        bool ok = true;
        switch (m->op) {
          case Matcher::Op::Eq: ok = v == m->value; break;
          case Matcher::Op::Neq: ok = v != m->value; break;
          case Matcher::Op::Re: ok = std::regex_match(v, re); break;
          case Matcher::Op::Nre: ok = !std::regex_match(v, re); break;
        }
        if (!ok) return false;
      }
      return true;
    };
    std::vector<SeriesInfo> out;
    std::shared_lock lock(dict_mu_);
    if (name.empty()) {
      for (const auto& [id, s] : series_)
        if (matches(s)) out.push_back(s);
    } else if (auto it = by_name_.find(name); it != by_name_.end()) {
      for (int64_t id : it->second)
        if (const auto& s = series_.at(id); matches(s)) out.push_back(s);
    }
    return out;
  }

  Result<std::vector<Point>> read(int64_t series_id, int64_t from_ms, int64_t to_ms) override {
    auto conn = reader();
    if (!conn) return conn.error();
    Reader& r = **conn;
    sqlite3_stmt* s = r.points.get();
    sqlite3_bind_int64(s, 1, series_id);
    sqlite3_bind_int64(s, 2, from_ms);
    sqlite3_bind_int64(s, 3, to_ms);
    std::vector<Point> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      double v = sqlite3_column_type(s, 1) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                          : sqlite3_column_double(s, 1);
      out.push_back({sqlite3_column_int64(s, 0), v});
    }
    std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(r.db);
    sqlite3_reset(s);
    release(std::move(*conn));
    if (!err.empty()) return Error{"sqlite: " + err};
    return out;
  }

  Result<std::vector<StoredEvent>> read_events(const std::string& kind, int64_t from_ms, int64_t to_ms) override {
    auto conn = reader();
    if (!conn) return conn.error();
    Reader& r = **conn;
    sqlite3_stmt* s = kind.empty() ? r.all_events.get() : r.kind_events.get();
    sqlite3_bind_int64(s, 1, from_ms);
    sqlite3_bind_int64(s, 2, to_ms);
    if (!kind.empty()) sqlite3_bind_text(s, 3, kind.data(), static_cast<int>(kind.size()), SQLITE_TRANSIENT);
    std::vector<StoredEvent> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      StoredEvent e;
      e.event.t_ms = sqlite3_column_int64(s, 0);
      e.event.kind = text_column(s, 1);
      e.node = text_column(s, 2);
      e.event.labels = labels_from_json(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)));
      e.event.fields_json = text_column(s, 4);
      out.push_back(std::move(e));
    }
    std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(r.db);
    sqlite3_reset(s);
    release(std::move(*conn));
    if (!err.empty()) return Error{"sqlite: " + err};
    return out;
  }

  StoreStats stats() override {
    StoreStats st;
    {
      std::shared_lock lock(dict_mu_);
      st.series = static_cast<int64_t>(series_.size());
    }
    st.points = points_.load();
    st.bytes_on_disk = file_size(path_) + file_size(path_ + "-wal");
    return st;
  }

  void close() override {
    {
      std::unique_lock lock(queue_mu_);
      if (closed_) return;
      closed_ = true;  // appends already queued are still written
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    insert_point_ = Stmt();
    insert_series_ = Stmt();
    insert_event_ = Stmt();
    upsert_stream_ = Stmt();
    {
      std::lock_guard lock(readers_mu_);
      readers_.clear();
    }
    if (writer_db_) {
      // Fold the WAL into the database so the file is self-contained after a clean shutdown.
      (void)exec(writer_db_, "PRAGMA wal_checkpoint(TRUNCATE)");
      sqlite3_close_v2(writer_db_);
      writer_db_ = nullptr;
    }
  }

 private:
  struct Pending {
    const Batch* batch = nullptr;
    AppendOutcome outcome;
    std::string error;
    bool done = false;
  };

  struct Reader {
    sqlite3* db = nullptr;
    Stmt points, all_events, kind_events;
    Reader() = default;
    Reader(const Reader&) = delete;
    ~Reader() {
      points = Stmt();
      all_events = Stmt();
      kind_events = Stmt();
      sqlite3_close_v2(db);
    }
  };

  Result<std::unique_ptr<Reader>> reader() {
    {
      std::lock_guard lock(readers_mu_);
      if (closed_readers_) return Error{"the store is closed"};
      if (!readers_.empty()) {
        auto r = std::move(readers_.back());
        readers_.pop_back();
        return r;
      }
    }
    auto db = open_connection(path_, false);
    if (!db) return db.error();
    auto r = std::make_unique<Reader>();
    r->db = *db;
    (void)exec(r->db, "PRAGMA query_only=1");
    r->points = Stmt(r->db, "SELECT ts, value FROM points WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3 ORDER BY ts");
    r->all_events =
        Stmt(r->db, "SELECT ts, kind, node, labels, fields FROM events WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts, id");
    r->kind_events = Stmt(r->db,
                          "SELECT ts, kind, node, labels, fields FROM events WHERE kind = ?3 AND ts BETWEEN ?1 AND ?2 "
                          "ORDER BY ts, id");
    for (const Stmt* s : {&r->points, &r->all_events, &r->kind_events})
      if (!s->get()) return Error{"sqlite: " + s->error()};
    return r;
  }

  void release(std::unique_ptr<Reader> r) {
    std::lock_guard lock(readers_mu_);
    if (!closed_readers_ && readers_.size() < 16) readers_.push_back(std::move(r));
  }

  Result<void> load() {
    Stmt s(writer_db_, "SELECT id, name, labels, type FROM series");
    if (!s.get()) return Error{"sqlite: " + s.error()};
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      SeriesInfo info;
      info.id = sqlite3_column_int64(s.get(), 0);
      info.name = text_column(s.get(), 1);
      info.labels = labels_from_json(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 2)));
      info.type = sqlite3_column_int(s.get(), 3) == 0 ? SeriesType::Counter : SeriesType::Gauge;
      publish(info);
      next_series_id_ = std::max(next_series_id_, info.id + 1);
    }
    Stmt st(writer_db_, "SELECT node, stream, seq FROM streams");
    if (!st.get()) return Error{"sqlite: " + st.error()};
    while (sqlite3_step(st.get()) == SQLITE_ROW)
      last_seq_[{text_column(st.get(), 0), text_column(st.get(), 1)}] =
          static_cast<uint64_t>(sqlite3_column_int64(st.get(), 2));
    Stmt count(writer_db_, "SELECT count(*) FROM points");
    if (!count.get()) return Error{"sqlite: " + count.error()};
    if (sqlite3_step(count.get()) == SQLITE_ROW) points_ = sqlite3_column_int64(count.get(), 0);
    return {};
  }

  // Caller holds dict_mu_ exclusively (or is loading before any reader exists).
  void publish(const SeriesInfo& info) {
    key_to_id_[series_key(info.name, info.labels)] = info.id;
    by_name_[info.name].push_back(info.id);
    series_[info.id] = info;
  }

  void write_loop() {
    for (;;) {
      std::vector<Pending*> group;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) break;  // closed and drained
        group.assign(queue_.begin(), queue_.end());
        queue_.clear();
      }
      commit_group(group);
      {
        std::lock_guard lock(queue_mu_);
        for (Pending* p : group) p->done = true;
      }
      done_cv_.notify_all();
    }
    std::lock_guard lock(readers_mu_);
    closed_readers_ = true;
  }

  struct GroupState {
    std::map<std::pair<std::string, std::string>, uint64_t> seq;  // seqs written in this transaction
    std::unordered_map<std::string, int64_t> new_keys;
    std::vector<SeriesInfo> new_series;
    int64_t points = 0;
  };

  void commit_group(const std::vector<Pending*>& group) {
    GroupState g;
    int64_t first_new_id = next_series_id_;
    auto fail_all = [&](const std::string& msg) {
      for (Pending* p : group)
        if (p->error.empty()) p->error = msg;
      next_series_id_ = first_new_id;
    };
    if (auto r = exec(writer_db_, "BEGIN"); !r) return fail_all(r.error().message);
    for (Pending* p : group) {
      (void)exec(writer_db_, "SAVEPOINT batch");
      // A failed batch is rolled back to its savepoint and leaves no trace in the group's state.
      std::pair<std::string, std::string> stream{p->batch->node, p->batch->stream};
      std::optional<uint64_t> seq_mark;
      if (auto it = g.seq.find(stream); it != g.seq.end()) seq_mark = it->second;
      size_t new_series_mark = g.new_series.size();
      int64_t points_mark = g.points;
      auto r = write_batch(*p->batch, g, p->outcome);
      if (r) {
        (void)exec(writer_db_, "RELEASE batch");
        continue;
      }
      (void)exec(writer_db_, "ROLLBACK TO batch");
      (void)exec(writer_db_, "RELEASE batch");
      for (size_t i = new_series_mark; i < g.new_series.size(); ++i) g.new_keys.erase(
          series_key(g.new_series[i].name, g.new_series[i].labels));
      g.new_series.resize(new_series_mark);
      g.points = points_mark;
      if (seq_mark) g.seq[stream] = *seq_mark;
      else g.seq.erase(stream);
      p->outcome = {};
      p->error = r.error().message;
    }
    if (auto r = exec(writer_db_, "COMMIT"); !r) {
      (void)exec(writer_db_, "ROLLBACK");
      log::error("store commit failed: {}", r.error().message);
      return fail_all(r.error().message);
    }
    for (auto& [k, seq] : g.seq) last_seq_[k] = seq;
    points_ += g.points;
    if (!g.new_series.empty()) {
      std::unique_lock lock(dict_mu_);
      for (const auto& s : g.new_series) publish(s);
    }
  }

  Result<void> step(const Stmt& stmt) {
    sqlite3_stmt* s = stmt.get();
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return errorf("sqlite: {}", sqlite3_errmsg(writer_db_));
    return {};
  }

  Result<int64_t> series_id(const Series& s, const std::string& node, GroupState& g) {
    Labels labels = with_node(s.labels, node);
    std::string key = series_key(s.name, labels);
    if (auto it = key_to_id_.find(key); it != key_to_id_.end()) return it->second;
    if (auto it = g.new_keys.find(key); it != g.new_keys.end()) return it->second;
    int64_t id = next_series_id_++;
    sqlite3_stmt* st = insert_series_.get();
    std::string labels_json = labels_to_json(labels);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, s.name.data(), static_cast<int>(s.name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, labels_json.data(), static_cast<int>(labels_json.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, s.type == SeriesType::Counter ? 0 : 1);
    if (auto r = step(insert_series_); !r) return r.error();
    g.new_keys.emplace(key, id);
    g.new_series.push_back({id, s.name, std::move(labels), s.type});
    return id;
  }

  Result<void> write_batch(const Batch& b, GroupState& g, AppendOutcome& out) {
    std::pair<std::string, std::string> stream{b.node, b.stream};
    std::optional<uint64_t> last;
    if (auto it = g.seq.find(stream); it != g.seq.end()) last = it->second;
    else if (auto it2 = last_seq_.find(stream); it2 != last_seq_.end()) last = it2->second;
    if (last && b.seq <= *last) {
      out = {0, true};
      return {};
    }
    size_t accepted = 0;
    for (const auto& s : b.series) {
      auto id = series_id(s, b.node, g);
      if (!id) return id.error();
      sqlite3_stmt* st = insert_point_.get();
      for (const auto& p : s.points) {
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int64(st, 2, p.t_ms);
        if (std::isnan(p.value)) sqlite3_bind_null(st, 3);  // SQLite has no NaN; NULL stands for it
        else sqlite3_bind_double(st, 3, p.value);
        if (auto r = step(insert_point_); !r) return r;
        accepted += static_cast<size_t>(sqlite3_changes(writer_db_));
      }
    }
    for (const auto& e : b.events) {
      sqlite3_stmt* st = insert_event_.get();
      std::string labels_json = labels_to_json(with_node(e.labels, b.node));
      sqlite3_bind_int64(st, 1, e.t_ms);
      sqlite3_bind_text(st, 2, e.kind.data(), static_cast<int>(e.kind.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, b.node.data(), static_cast<int>(b.node.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 4, labels_json.data(), static_cast<int>(labels_json.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 5, e.fields_json.data(), static_cast<int>(e.fields_json.size()), SQLITE_TRANSIENT);
      if (auto r = step(insert_event_); !r) return r;
    }
    sqlite3_stmt* st = upsert_stream_.get();
    sqlite3_bind_text(st, 1, b.node.data(), static_cast<int>(b.node.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b.stream.data(), static_cast<int>(b.stream.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, static_cast<int64_t>(std::min<uint64_t>(b.seq, std::numeric_limits<int64_t>::max())));
    if (auto r = step(upsert_stream_); !r) return r;
    g.seq[stream] = b.seq;
    g.points += static_cast<int64_t>(accepted);
    out = {accepted, false};
    return {};
  }

  std::string path_;
  sqlite3* writer_db_ = nullptr;
  Stmt insert_point_, insert_series_, insert_event_, upsert_stream_;
  std::thread writer_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_, done_cv_;
  std::deque<Pending*> queue_;
  bool closed_ = false;

  // Writer-thread state.
  int64_t next_series_id_ = 1;
  std::map<std::pair<std::string, std::string>, uint64_t> last_seq_;

  // The series dictionary: written by the writer after COMMIT, read by anyone.
  std::shared_mutex dict_mu_;
  std::unordered_map<std::string, int64_t> key_to_id_;
  std::unordered_map<std::string, std::vector<int64_t>> by_name_;
  std::map<int64_t, SeriesInfo> series_;
  std::atomic<int64_t> points_{0};

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;
  bool closed_readers_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) {
  if (options.path.empty()) return Error{"store: no database path given"};
  std::filesystem::path p(options.path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) return errorf("cannot create directory {}: {}", p.parent_path().string(), ec.message());
  }
  auto store = std::make_unique<SqliteStore>(options.path);
  if (auto r = store->open(); !r) return r.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace ss::collector
