#include "swap/restore.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "swap/pg.h"
#include "swap/restore_sql.h"
#include "swap/restore_target.h"

namespace pgmerge::swap {
namespace {

using internal::Body;
using internal::Build;
using internal::Conn;
using internal::Result;
using internal::Run;

// COPY data queued for the sessions, at most: the merge runs this far ahead
// of the slowest COPY, and no further.
constexpr size_t kQueuedBytes = size_t{64} << 20;
// Sent buffers at least this large go back to the merge (Adopt).
constexpr size_t kSpareBytes = size_t{512} << 10;
// How often a wait looks at IntoOptions::interrupted.
constexpr std::chrono::milliseconds kPoll{100};

using Settings = std::vector<std::pair<std::string, std::string>>;

struct Job {
  bool copy = false;
  std::string sql;  // The COPY header or the statement.
  Settings settings;
  // Tables no other job that names them runs beside: a foreign key's two,
  // its check's one.
  std::vector<std::string> locks;
  // COPY: the rows, as the merge wrote them, until `closed`.
  std::deque<std::string> rows;
  bool closed = false;
  // The block before this one into the same table: this one starts after
  // it is done, so the rows lie in the table in the stream's order (and
  // pg_dump of the shadow reads as the pipe's).
  std::shared_ptr<Job> after;
  // Post-data that may read tables besides its own: it starts once every
  // COPY is done.
  bool after_data = false;
  bool done = false;
};

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
  // A buffer of COPY rows is queued as it is (a spare one handed back):
  // the rows are not copied on the merge's thread.
  bool Adopt(std::string* bytes) override;
  void Mark(OutputMark mark) override;

 private:
  enum class Phase { kPre, kData, kPost };
  void Statement(std::string_view sql);
  absl::Status Control(std::string_view sql);
  // Whether any of `tables` is partitioned. A key into a partitioned table
  // is not split: VALIDATE would leave the constraints PostgreSQL makes
  // for each of its partitions NOT VALID.
  bool Partitioned(const std::vector<std::string>& tables);
  void CommitControl();
  // Waits, locked, until the COPY queue has room; false once the run failed.
  bool WaitForRoom(std::unique_lock<std::mutex>& l);
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
  bool unnamed_copy_ = false;  // A COPY header CopyTable could not name.
  std::optional<std::set<std::string>> partitioned_;  // Keys, read once.
  Settings settings_;
  internal::Target target_;  // What Wipe needs to create the database again.

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  int in_flight_ = 0;
  int copies_left_ = 0;  // COPY jobs dispatched and not done.
  size_t queued_bytes_ = 0;
  std::vector<std::string> spare_;  // Sent buffers, for Adopt to hand back.
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

absl::Status Restore::Start() {
  absl::StatusOr<Conn> c = internal::Connect(options_.conninfo);
  if (!c.ok()) return c.status();
  control_ = std::move(*c);
  absl::StatusOr<internal::Target> target = internal::InspectTarget(control_.get());
  if (!target.ok()) return target.status();
  target_ = std::move(*target);
  absl::Status opened = internal::OpenSessions(
      options_.jobs, [this] { return internal::Connect(options_.conninfo); }, &conns_);
  if (!opened.ok()) return opened;
  for (const Conn& w : conns_) {
    if (PGcancel* c = PQgetCancel(w.get())) cancels_.emplace_back(c);
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
  if (!WaitForRoom(l)) return;  // The COPY's session drains what it has.
  copy_->rows.emplace_back(bytes);
  queued_bytes_ += bytes.size();
  cv_.notify_all();
}

bool Restore::Adopt(std::string* bytes) {
  if (copy_ == nullptr) return false;  // Statements are gathered by Write.
  CheckInterrupt();
  std::unique_lock<std::mutex> l(mu_);
  if (!WaitForRoom(l)) {
    bytes->clear();
    return true;
  }
  std::string spare;
  if (!spare_.empty()) {
    spare = std::move(spare_.back());
    spare_.pop_back();
  }
  std::swap(spare, *bytes);
  queued_bytes_ += spare.size();
  copy_->rows.push_back(std::move(spare));
  cv_.notify_all();
  return true;
}

bool Restore::WaitForRoom(std::unique_lock<std::mutex>& l) {
  while (!cv_.wait_for(l, kPoll, [&] { return queued_bytes_ < kQueuedBytes || !status_.ok(); })) {
    l.unlock();
    CheckInterrupt();
    l.lock();
  }
  return status_.ok();
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
      if (std::string table = internal::CopyTable(job->sql); !table.empty()) {
        std::shared_ptr<Job>& last = last_copy_[table];
        job->after = last;
        last = job;
      } else {
        unnamed_copy_ = true;
      }
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
      // No barrier: each index or constraint build waits for its own
      // table's rows only (Statement); anything ordered waits for all.
      phase_ = Phase::kPost;
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
  if (internal::IsSetting(body, &key)) {
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
    internal::PostData post = internal::Classify(body);
    const Build b = post.build;
    if (b != Build::kOrdered) {
      // Foreign keys need every unique index before them; indexes need
      // nothing from the keys before them, but keep their order.
      if (b != batch_) Barrier();
      batch_ = b;
      CommitControl();
      auto job = std::make_shared<Job>();
      job->sql = std::string(body);
      if (b == Build::kForeignKey && !post.validate.empty() && !Partitioned(post.tables)) {
        // Added NOT VALID (a moment's lock on both tables), then checked
        // beside the other keys' checks, also those into the same table.
        job->sql = std::move(post.add_not_valid);
        job->locks = std::move(post.tables);
        auto check = std::make_shared<Job>();
        check->sql = std::move(post.validate);
        check->after = job;
        // It locks its own table against other checks and keys (the one it
        // references only against DDL).
        check->locks = {job->locks.front()};
        Dispatch(job);
        Dispatch(std::move(check));
        return;
      }
      if (b == Build::kForeignKey) {
        job->locks = std::move(post.tables);
      } else {
        // After the table's last block: built on its rows once, not kept
        // up row by row, while other tables still load (as pgcopydb
        // does). A build that may read other tables' rows (a table with no
        // block of its own, as a partitioned parent; children) waits for
        // all the data, as does every build once a COPY went unnamed.
        auto own = last_copy_.find(post.tables.front());
        if (own != last_copy_.end()) job->after = own->second;
        job->after_data = unnamed_copy_ || post.children || own == last_copy_.end();
      }
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

bool Restore::Partitioned(const std::vector<std::string>& tables) {
  if (!partitioned_) {
    absl::StatusOr<Result> r = internal::Exec(
        control_.get(),
        "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p'");
    if (!r.ok()) return true;  // Not split, then: the key is added as written.
    partitioned_.emplace();
    for (int i = 0; i < PQntuples(r->get()); ++i) partitioned_->insert(PQgetvalue(r->get(), i, 0));
  }
  for (const std::string& t : tables) {
    if (partitioned_->count(t)) return true;
  }
  return false;
}

void Restore::CommitControl() {
  if (!in_tx_) return;
  in_tx_ = false;
  if (absl::Status s = Run(control_.get(), "COMMIT"); !s.ok()) Fail(s);
}

void Restore::Dispatch(std::shared_ptr<Job> job) {
  job->settings = settings_;
  std::lock_guard<std::mutex> l(mu_);
  if (!status_.ok()) {
    job->closed = true;
    return;
  }
  ++in_flight_;
  if (job->copy) ++copies_left_;
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
        ready = std::find_if(queue_.begin(), queue_.end(), [&](const std::shared_ptr<Job>& j) {
          if (j->after != nullptr && !j->after->done) return false;
          if (j->after_data && copies_left_ > 0) return false;
          // Two jobs that lock one table never run at once: the second would
          // hold a session waiting on the server's lock (or deadlock, as two
          // foreign keys that each take both tables could); a later job
          // runs meanwhile.
          return std::none_of(j->locks.begin(), j->locks.end(),
                              [&](const std::string& t) { return locked_.count(t) > 0; });
        });
        return ready != queue_.end() || (stopping_ && queue_.empty());
      });
      if (ready == queue_.end()) return;
      for (const std::string& t : (*ready)->locks) locked_.insert(t);
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
    if (job->copy) --copies_left_;
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
  std::string chunk;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      if (chunk.capacity() >= kSpareBytes && spare_.size() < 4) {  // An output buffer's.
        chunk.clear();
        spare_.push_back(std::move(chunk));
      }
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
  return internal::RecreateTarget(options_.conninfo, target_);
}

}  // namespace

absl::StatusOr<std::unique_ptr<IntoRestore>> IntoRestore::Open(const IntoOptions& options) {
  auto r = std::make_unique<Restore>(options);
  if (absl::Status s = r->Start(); !s.ok()) return s;
  return std::unique_ptr<IntoRestore>(std::move(r));
}


}  // namespace pgmerge::swap
