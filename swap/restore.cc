#include "swap/restore.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/strings.h"
#include "parser/sql_parser.h"
#include "swap/pg.h"

namespace pgmerge::swap {
namespace {

using internal::Conn;
using internal::Result;

// COPY data queued for the sessions, at most: the merge runs this far ahead
// of the slowest COPY, and no further.
constexpr size_t kQueuedBytes = size_t{64} << 20;
// How often a wait looks at IntoOptions::interrupted.
constexpr std::chrono::milliseconds kPoll{100};

// Runs `sql`; any result but an error is fine (a SELECT set_config, an
// empty query after our comments).
absl::Status Run(PGconn* conn, std::string_view sql) {
  Result r(PQexec(conn, std::string(sql).c_str()));
  ExecStatusType st = PQresultStatus(r.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    return absl::OkStatus();
  }
  std::string message = PQresultErrorMessage(r.get());
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  absl::string_view shown = absl::StripTrailingAsciiWhitespace(AsAbsl(sql.substr(0, 200)));
  return absl::InternalError(absl::StrCat(message, " (in: ", shown,
                                          sql.size() > 200 ? "..." : "", ")"));
}

// The statement without our "--" comment lines and blank lines before it.
std::string_view Body(std::string_view sql) {
  for (;;) {
    size_t i = 0;
    while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t')) ++i;
    sql.remove_prefix(i);
    if (!StartsWithIgnoreCase(sql, "--")) break;
    size_t nl = sql.find('\n');
    sql.remove_prefix(nl == std::string_view::npos ? sql.size() : nl + 1);
  }
  return sql;
}

// A session setting (SET, RESET, set_config): its name in *key, so the
// latest value of each follows statements to every session.
bool IsSetting(std::string_view body, std::string* key) {
  std::string_view rest;
  if (StartsWithIgnoreCase(body, "SET ")) {
    rest = body.substr(4);
  } else if (StartsWithIgnoreCase(body, "RESET ")) {
    rest = body.substr(6);
  } else if (StartsWithIgnoreCase(body, "SELECT pg_catalog.set_config('")) {
    rest = body.substr(30);
    size_t q = rest.find('\'');
    *key = absl::AsciiStrToLower(AsAbsl(rest.substr(0, q)));
    return true;
  } else {
    return false;
  }
  if (StartsWithIgnoreCase(rest, "SESSION AUTHORIZATION")) {
    *key = "session authorization";
    return true;
  }
  if (StartsWithIgnoreCase(rest, "SESSION ")) rest.remove_prefix(8);
  size_t end = rest.find_first_of(" =;\n\t");
  *key = absl::AsciiStrToLower(AsAbsl(rest.substr(0, end)));
  return true;
}

enum class Build { kOrdered, kParallel, kForeignKey };

std::string TableOf(parser::Node range_var) {
  return absl::StrCat(AsAbsl(range_var.str("schemaname")), ".", AsAbsl(range_var.str("relname")));
}

// Post-data statements that can run beside each other: index builds and
// constraints that lock one table; foreign keys (which lock two, named in
// *tables). Everything else keeps its place in the stream.
Build Classify(std::string_view body, std::vector<std::string>* tables) {
  const bool index = StartsWithIgnoreCase(body, "CREATE INDEX ") ||
                     StartsWithIgnoreCase(body, "CREATE UNIQUE INDEX ");
  const bool alter = StartsWithIgnoreCase(body, "ALTER TABLE ") &&
                     ContainsIgnoreCase(body, " ADD CONSTRAINT ");
  if (!index && !alter) return Build::kOrdered;
  absl::StatusOr<parser::ParsedStatement> p = parser::ParsedStatement::Parse(body, "", 0);
  if (!p.ok()) return Build::kOrdered;
  const parser::Node n = p->node();
  if (p->type() == "IndexStmt") {
    return n.boolean("concurrent") ? Build::kOrdered : Build::kParallel;
  }
  if (p->type() != "AlterTableStmt" || n["cmds"].size() != 1 || !n.has("relation")) {
    return Build::kOrdered;
  }
  const parser::Node cmd = n["cmds"].at(0)["AlterTableCmd"];
  if (cmd.str("subtype") != "AT_AddConstraint" || !cmd["def"].has("Constraint")) {
    return Build::kOrdered;
  }
  const parser::Node c = cmd["def"]["Constraint"];
  const std::string_view type = c.str("contype");
  if (c.has("indexname")) return Build::kOrdered;  // USING INDEX: needs the index.
  if (type == "CONSTR_FOREIGN" && c.has("pktable")) {
    tables->push_back(TableOf(n["relation"]));
    tables->push_back(TableOf(c["pktable"]));
    return Build::kForeignKey;
  }
  if (type == "CONSTR_PRIMARY" || type == "CONSTR_UNIQUE" || type == "CONSTR_EXCLUSION" ||
      type == "CONSTR_CHECK") {
    return Build::kParallel;
  }
  return Build::kOrdered;
}

using Settings = std::vector<std::pair<std::string, std::string>>;

struct Job {
  bool copy = false;
  std::string sql;  // The COPY header or the statement.
  Settings settings;
  std::vector<std::string> locks;  // Foreign keys: both tables.
  // COPY: the rows, as the merge wrote them, until `closed`.
  std::deque<std::string> rows;
  bool closed = false;
  // The block before this one into the same table: this one starts after
  // it is done, so the rows lie in the table in the stream's order (and
  // pg_dump of the shadow reads as the pipe's).
  std::shared_ptr<Job> after;
  bool done = false;
};

// The table a COPY header names, as a key.
std::string CopyTable(std::string_view header) {
  header.remove_prefix(std::min<size_t>(5, header.size()));  // "COPY "
  return std::string(header.substr(0, header.find_first_of(" (")));
}

class Restore final : public IntoRestore, public OutputSink {
 public:
  explicit Restore(IntoOptions options) : options_(std::move(options)) {}
  ~Restore() override { Stop(); }

  absl::Status Start();

  OutputSink* sink() override { return this; }
  absl::Status Finish() override;
  absl::Status Wipe() override;
  bool touched() const override { return touched_; }

  void Write(std::string_view bytes) override;
  void Mark(OutputMark mark) override;

 private:
  enum class Phase { kPre, kData, kPost };
  absl::Status CheckTarget();
  void Statement(std::string_view sql);
  absl::Status Control(std::string_view sql);
  void CommitControl();
  void Dispatch(std::shared_ptr<Job> job);
  void Barrier();
  void Fail(absl::Status s);
  // Ctrl-C: fails the run once and cancels every session's statement.
  void CheckInterrupt();
  bool failed() {
    std::lock_guard<std::mutex> l(mu_);
    return !status_.ok();
  }
  void Worker(int i);
  absl::Status RunJob(PGconn* conn, std::map<std::string, std::string>& applied, Job& job);
  absl::Status RunCopy(PGconn* conn, Job& job);
  void Stop();

  IntoOptions options_;
  Conn control_;
  bool in_tx_ = false;
  bool touched_ = false;
  bool interrupted_ = false;
  Phase phase_ = Phase::kPre;
  Build batch_ = Build::kParallel;  // What the jobs since the last barrier are.
  std::string pending_;
  std::shared_ptr<Job> copy_;  // The COPY the merge is writing.
  std::map<std::string, std::shared_ptr<Job>> last_copy_;  // By table.
  Settings settings_;
  // What Wipe needs to create the database again.
  std::string db_name_, create_sql_;
  std::vector<std::string> after_create_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  int in_flight_ = 0;
  size_t queued_bytes_ = 0;
  std::set<std::string> locked_;
  absl::Status status_;
  bool stopping_ = false;
  std::vector<Conn> conns_;
  struct CancelFree {
    void operator()(PGcancel* c) const { PQfreeCancel(c); }
  };
  using Cancel = std::unique_ptr<PGcancel, CancelFree>;
  std::vector<Cancel> cancels_;  // Made before the sessions' threads start.
  std::vector<std::thread> workers_;
};

void Restore::CheckInterrupt() {
  if (interrupted_ || !options_.interrupted || !options_.interrupted()) return;
  interrupted_ = true;
  Fail(absl::CancelledError("interrupted"));
  for (const Cancel& c : cancels_) {
    char err[256];
    PQcancel(c.get(), err, sizeof err);  // Best effort: the run fails either way.
  }
}

void Restore::Fail(absl::Status s) {
  std::lock_guard<std::mutex> l(mu_);
  if (status_.ok()) status_ = std::move(s);
  cv_.notify_all();
}

absl::Status Restore::CheckTarget() {
  PGconn* c = control_.get();
  // Whether a failed run can put the target back: drop it, create it.
  absl::StatusOr<std::string> can = internal::QueryValue(
      c,
      "SELECT r.rolsuper OR (r.rolcreatedb AND pg_has_role(d.datdba, 'MEMBER')) "
      "FROM pg_roles r, pg_database d WHERE r.rolname = current_user "
      "AND d.datname = current_database()");
  if (!can.ok()) return can.status();
  absl::StatusOr<std::string> name = internal::QueryValue(c, "SELECT current_database()");
  if (!name.ok()) return name.status();
  db_name_ = *name;
  if (*can != "t") {
    return absl::FailedPreconditionError(absl::StrCat(
        "--into ", db_name_, ": the role must own the database and have CREATEDB (or be a "
        "superuser), so that a failed run can drop it and create it again empty"));
  }
  absl::StatusOr<Result> there = internal::Exec(c, R"sql(
    SELECT what FROM (
      SELECT 'schema ' || quote_ident(nspname) AS what FROM pg_namespace
        WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%'
      UNION ALL SELECT 'relation ' || c.oid::regclass::text FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
      UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
          AND t.typtype IN ('b', 'd', 'e', 'r') AND t.typcategory <> 'A'
      UNION ALL SELECT 'extension ' || quote_ident(extname) FROM pg_extension
        WHERE extname <> 'plpgsql'
      UNION ALL SELECT 'large object ' || oid FROM pg_largeobject_metadata
    ) x ORDER BY 1 LIMIT 6)sql");
  if (!there.ok()) return there.status();
  if (PQntuples(there->get()) > 0) {
    std::vector<std::string> what;
    for (int i = 0; i < PQntuples(there->get()) && i < 5; ++i) {
      what.push_back(PQgetvalue(there->get(), i, 0));
    }
    if (PQntuples(there->get()) > 5) what.push_back("...");
    return absl::FailedPreconditionError(absl::StrCat(
        "--into ", db_name_, " is not empty (", absl::StrJoin(what, ", "),
        "): pgmerge restores only into an empty database; nothing was changed"));
  }
  // The database as it is, to create it again the same after a failure.
  const bool v15 = PQserverVersion(c) >= 150000;
  absl::StatusOr<Result> d = internal::Exec(
      c, absl::StrCat(
             "SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, "
             "d.datctype, d.datconnlimit, t.spcname, ",
             v15 ? "d.datlocprovider::text, coalesce(d.daticulocale, '')" : "'c', ''",
             " FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
             "WHERE d.datname = current_database()"));
  if (!d.ok()) return d.status();
  auto v = [&](int col) { return std::string(PQgetvalue(d->get(), 0, col)); };
  create_sql_ = absl::StrCat(
      "CREATE DATABASE ", internal::Ident(c, db_name_), " OWNER ", internal::Ident(c, v(0)),
      " TEMPLATE template0 ENCODING ", internal::Literal(c, v(1)), " LC_COLLATE ",
      internal::Literal(c, v(2)), " LC_CTYPE ", internal::Literal(c, v(3)),
      " CONNECTION LIMIT ", v(4), " TABLESPACE ", internal::Ident(c, v(5)));
  if (v15) {
    absl::StrAppend(&create_sql_, " LOCALE_PROVIDER ", v(6) == "i" ? "icu" : "libc");
    if (v(6) == "i") absl::StrAppend(&create_sql_, " ICU_LOCALE ", internal::Literal(c, v(7)));
  }
  // Its privileges and settings, when not the defaults.
  absl::StatusOr<Result> acl = internal::Exec(
      c, "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) "
         "END, a.privilege_type, a.is_grantable FROM pg_database d, aclexplode(d.datacl) a "
         "WHERE d.datname = current_database()");
  if (!acl.ok()) return acl.status();
  const std::string ident = internal::Ident(c, db_name_);
  if (PQntuples(acl->get()) > 0) {
    after_create_.push_back(absl::StrCat("REVOKE ALL ON DATABASE ", ident, " FROM PUBLIC"));
    for (int i = 0; i < PQntuples(acl->get()); ++i) {
      after_create_.push_back(absl::StrCat(
          "GRANT ", PQgetvalue(acl->get(), i, 1), " ON DATABASE ", ident, " TO ",
          PQgetvalue(acl->get(), i, 0),
          std::string_view(PQgetvalue(acl->get(), i, 2)) == "t" ? " WITH GRANT OPTION" : ""));
    }
  }
  absl::StatusOr<Result> set = internal::Exec(
      c, "SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d ON "
         "d.oid = s.setdatabase WHERE s.setrole = 0 AND d.datname = current_database()");
  if (!set.ok()) return set.status();
  for (int i = 0; i < PQntuples(set->get()); ++i) {
    std::string_view kv = PQgetvalue(set->get(), i, 0);
    size_t eq = kv.find('=');
    after_create_.push_back(absl::StrCat("ALTER DATABASE ", ident, " SET ",
                                         AsAbsl(kv.substr(0, eq)), " = ",
                                         internal::Literal(c, kv.substr(eq + 1))));
  }
  return absl::OkStatus();
}

absl::Status Restore::Start() {
  absl::StatusOr<Conn> c = internal::Connect(options_.conninfo);
  if (!c.ok()) return c.status();
  control_ = std::move(*c);
  if (absl::Status s = CheckTarget(); !s.ok()) return s;
  for (int i = 0; i < options_.jobs; ++i) {
    absl::StatusOr<Conn> w = internal::Connect(options_.conninfo);
    if (!w.ok()) return w.status();
    if (PGcancel* c = PQgetCancel(w->get())) cancels_.emplace_back(c);
    conns_.push_back(std::move(*w));
  }
  for (int i = 0; i < options_.jobs; ++i) workers_.emplace_back([this, i] { Worker(i); });
  return absl::OkStatus();
}

void Restore::Write(std::string_view bytes) {
  CheckInterrupt();
  if (copy_ == nullptr) {
    pending_.append(bytes.data(), bytes.size());
    return;
  }
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, kPoll, [&] { return queued_bytes_ < kQueuedBytes || !status_.ok(); })) {
    l.unlock();
    CheckInterrupt();
    l.lock();
  }
  if (!status_.ok()) return;  // The COPY's session drains what it has.
  copy_->rows.emplace_back(bytes);
  queued_bytes_ += bytes.size();
  cv_.notify_all();
}

void Restore::Mark(OutputMark mark) {
  CheckInterrupt();
  switch (mark) {
    case OutputMark::kMeta: {  // psql's \restrict: no meta-command reaches a server.
      std::string_view p = pending_;
      if (!p.empty()) p.remove_suffix(1);  // The meta-command is the last line.
      size_t nl = p.rfind('\n');
      Statement(nl == std::string_view::npos ? std::string_view() : p.substr(0, nl + 1));
      pending_.clear();
      return;
    }
    case OutputMark::kCopyEnd:  // The "\." line: PQputCopyEnd says it.
      pending_.clear();
      return;
    case OutputMark::kCopyHeader: {
      auto job = std::make_shared<Job>();
      job->copy = true;
      job->sql = std::move(pending_);
      pending_.clear();
      std::shared_ptr<Job>& last = last_copy_[CopyTable(job->sql)];
      job->after = last;
      last = job;
      if (failed()) return;
      touched_ = true;
      CommitControl();  // The tables must be visible to the other sessions.
      copy_ = job;
      Dispatch(job);
      return;
    }
    case OutputMark::kCopyRows:
      if (copy_ != nullptr) {
        std::lock_guard<std::mutex> l(mu_);
        copy_->closed = true;
        cv_.notify_all();
      }
      copy_.reset();
      return;
    case OutputMark::kDataBegin:
      Statement(pending_);
      pending_.clear();
      phase_ = Phase::kData;
      return;
    case OutputMark::kDataEnd:
      Statement(pending_);
      pending_.clear();
      phase_ = Phase::kPost;
      Barrier();  // Indexes and constraints after all the rows.
      return;
    case OutputMark::kStatement:
      Statement(pending_);
      pending_.clear();
      return;
  }
}

void Restore::Statement(std::string_view sql) {
  std::string_view body = Body(sql);
  if (body.empty() || failed()) return;
  touched_ = true;
  std::string key;
  if (IsSetting(body, &key)) {
    if (absl::Status s = Control(body); !s.ok()) return Fail(s);
    bool found = false;
    for (auto& [k, v] : settings_) {
      if (k == key) {
        v = std::string(body);
        found = true;
      }
    }
    if (!found) settings_.emplace_back(key, std::string(body));
    return;
  }
  if (phase_ == Phase::kPost) {
    std::vector<std::string> tables;
    Build b = Classify(body, &tables);
    if (b != Build::kOrdered) {
      // Foreign keys need every unique index before them; indexes need
      // nothing from the keys before them, but keep their order.
      if (b != batch_) Barrier();
      batch_ = b;
      CommitControl();
      auto job = std::make_shared<Job>();
      job->sql = std::string(body);
      job->locks = std::move(tables);
      Dispatch(job);
      return;
    }
    Barrier();
  }
  if (absl::Status s = Control(body); !s.ok()) Fail(s);
}

absl::Status Restore::Control(std::string_view sql) {
  if (!in_tx_) {
    if (absl::Status s = Run(control_.get(), "BEGIN"); !s.ok()) return s;
    in_tx_ = true;
  }
  return Run(control_.get(), sql);
}

void Restore::CommitControl() {
  if (!in_tx_) return;
  in_tx_ = false;
  if (absl::Status s = Run(control_.get(), "COMMIT"); !s.ok()) Fail(s);
}

void Restore::Dispatch(std::shared_ptr<Job> job) {
  job->settings = settings_;
  std::unique_lock<std::mutex> l(mu_);
  // Two foreign keys never lock the same table at once: they could
  // deadlock (each takes both tables).
  cv_.wait(l, [&] {
    if (!status_.ok()) return true;
    for (const std::string& t : job->locks) {
      if (locked_.count(t)) return false;
    }
    return true;
  });
  if (!status_.ok()) {
    job->closed = true;
    return;
  }
  for (const std::string& t : job->locks) locked_.insert(t);
  ++in_flight_;
  queue_.push_back(std::move(job));
  cv_.notify_all();
}

void Restore::Barrier() {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, kPoll, [&] { return in_flight_ == 0; })) {
    l.unlock();
    CheckInterrupt();
    l.lock();
  }
}

void Restore::Worker(int i) {
  PGconn* conn = conns_[i].get();
  std::map<std::string, std::string> applied;
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      auto ready = queue_.end();
      cv_.wait(l, [&] {
        ready = std::find_if(queue_.begin(), queue_.end(), [](const std::shared_ptr<Job>& j) {
          return j->after == nullptr || j->after->done;
        });
        return ready != queue_.end() || (stopping_ && queue_.empty());
      });
      if (ready == queue_.end()) return;
      job = std::move(*ready);
      queue_.erase(ready);
      job->after.reset();
    }
    absl::Status s = failed() ? absl::OkStatus() : RunJob(conn, applied, *job);
    if (job->copy) {  // Drain what is left, so the merge never waits on us.
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return job->closed || !job->rows.empty(); });
      while (!job->closed || !job->rows.empty()) {
        for (const std::string& r : job->rows) queued_bytes_ -= r.size();
        job->rows.clear();
        cv_.notify_all();
        if (job->closed) break;
        cv_.wait(l, [&] { return job->closed || !job->rows.empty(); });
      }
    }
    std::lock_guard<std::mutex> l(mu_);
    if (!s.ok() && status_.ok()) status_ = s;
    for (const std::string& t : job->locks) locked_.erase(t);
    job->done = true;
    --in_flight_;
    cv_.notify_all();
  }
}

absl::Status Restore::RunJob(PGconn* conn, std::map<std::string, std::string>& applied,
                             Job& job) {
  for (const auto& [key, sql] : job.settings) {
    std::string& was = applied[key];
    if (was == sql) continue;
    if (absl::Status s = Run(conn, sql); !s.ok()) return s;
    was = sql;
  }
  if (!job.copy) return Run(conn, job.sql);
  return RunCopy(conn, job);
}

absl::Status Restore::RunCopy(PGconn* conn, Job& job) {
  Result start(PQexec(conn, job.sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) return Run(conn, job.sql);  // Its error.
  bool sent = true;
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return job.closed || !job.rows.empty() || !status_.ok(); });
      if (!status_.ok() && job.rows.empty()) break;  // Another session failed.
      if (job.rows.empty()) break;  // Closed: every row is sent.
      chunk = std::move(job.rows.front());
      job.rows.pop_front();
      queued_bytes_ -= chunk.size();
      cv_.notify_all();
    }
    if (PQputCopyData(conn, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      sent = false;
      break;
    }
  }
  const bool whole = sent && !failed();
  PQputCopyEnd(conn, whole ? nullptr : "pgmerge stopped");
  absl::Status s;
  for (;;) {
    Result r(PQgetResult(conn));
    if (r == nullptr) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && s.ok()) {
      std::string message = PQresultErrorMessage(r.get());
      while (!message.empty() && message.back() == '\n') message.pop_back();
      s = absl::InternalError(absl::StrCat(
          message, " (in: ", absl::StripTrailingAsciiWhitespace(job.sql.substr(0, 200)), ")"));
    } else if (options_.verbose && whole) {
      std::string_view h = job.sql;
      h = h.substr(5, h.find_first_of(" (", 5) - 5);
      std::fprintf(stderr, "pgmerge: into: %.*s: %s rows\n", static_cast<int>(h.size()),
                   h.data(), PQcmdTuples(r.get()));
    }
  }
  if (s.ok() && !sent) s = absl::UnavailableError(PQerrorMessage(conn));
  return s;
}

void Restore::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (copy_ != nullptr) copy_->closed = true;
    stopping_ = true;
    cv_.notify_all();
  }
  copy_.reset();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

absl::Status Restore::Finish() {
  Statement(pending_);
  pending_.clear();
  Barrier();
  CommitControl();
  Stop();
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

absl::Status Restore::Wipe() {
  Fail(absl::CancelledError("the run failed"));  // Stops every session's work.
  Stop();
  conns_.clear();
  control_.reset();
  if (!touched_) return absl::OkStatus();
  absl::StatusOr<Conn> m = internal::Connect(options_.conninfo, "postgres");
  if (!m.ok()) m = internal::Connect(options_.conninfo, "template1");
  absl::Status s = m.status();
  if (s.ok()) {
    s = Run(m->get(), absl::StrCat("DROP DATABASE ", internal::Ident(m->get(), db_name_),
                                   " WITH (FORCE)"));
  }
  if (s.ok()) s = Run(m->get(), create_sql_);
  for (const std::string& sql : after_create_) {
    if (s.ok()) s = Run(m->get(), sql);
  }
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the restore into ", db_name_, " failed and it could not be dropped and created "
        "again (", s.message(), "): it is half-restored; drop it before any use"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<IntoRestore>> IntoRestore::Open(const IntoOptions& options) {
  auto r = std::make_unique<Restore>(options);
  if (absl::Status s = r->Start(); !s.ok()) return s;
  return std::unique_ptr<IntoRestore>(std::move(r));
}

}  // namespace pgmerge::swap
