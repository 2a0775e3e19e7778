#include "swap/pipeline.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace pgmerge::swap::internal {
namespace {

// Statements between syncs. The server's replies to one chunk (~25 bytes
// each) must fit in the socket's buffer while the next chunk is sent, or
// both ends would wait on each other; 256 keeps that far below any
// buffer, and a round trip per 256 changes is no longer what counts.
constexpr int kChunk = 256;

std::string Trimmed(std::string message) {
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

absl::Status Broken(PGconn* conn) {
  return absl::UnavailableError(
      absl::StrCat("the shadow's connection broke: ", Trimmed(PQerrorMessage(conn))));
}

}  // namespace

ExecOutcome OutcomeOf(PGresult* r) {
  ExecOutcome out;
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    out.sqlstate = state ? state : "";
    const char* constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    out.constraint = constraint ? constraint : "";
    out.status = absl::InternalError(Trimmed(PQresultErrorMessage(r)));
    return out;
  }
  absl::SimpleAtoi(PQcmdTuples(r), &out.affected);
  return out;
}

Pipeline::~Pipeline() {
  if (on_) Finish().IgnoreError();
}

absl::Status Pipeline::Begin() {
  first_error_ = absl::OkStatus();
  if (PQenterPipelineMode(conn_) != 1) return Broken(conn_);
  on_ = true;
  return absl::OkStatus();
}

absl::Status Pipeline::Send(const std::string& sql,
                            const std::vector<std::optional<std::string>>& params, Done done) {
  if (!first_error_.ok()) return first_error_;
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const int n = static_cast<int>(values.size());
  auto it = names_.find(sql);
  if (it == names_.end()) {
    std::string name = absl::StrCat("pgmerge_catchup_", names_.size());
    if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), n, nullptr) != 1) return Broken(conn_);
    pending_.push_back({Pending::Kind::kPrepare, sql, nullptr});
    it = names_.emplace(sql, std::move(name)).first;
  }
  if (PQsendQueryPrepared(conn_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0) != 1) {
    return Broken(conn_);
  }
  pending_.push_back({Pending::Kind::kQuery, "", std::move(done)});
  if (++unsynced_ >= kChunk) PGM_RETURN_IF_ERROR(Sync());
  return first_error_;
}

// Ends a chunk; reads the one before while the server runs this one.
absl::Status Pipeline::Sync() {
  if (PQpipelineSync(conn_) != 1) return Broken(conn_);
  pending_.push_back({Pending::Kind::kSync, "", nullptr});
  unsynced_ = 0;
  ++syncs_in_flight_;
  while (syncs_in_flight_ > 1) PGM_RETURN_IF_ERROR(ReadOne());
  return absl::OkStatus();
}

absl::Status Pipeline::ReadOne() {
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  Result r(PQgetResult(conn_));
  if (r == nullptr) return Broken(conn_);
  if (p.kind == Pending::Kind::kSync) {
    --syncs_in_flight_;
    if (PQresultStatus(r.get()) != PGRES_PIPELINE_SYNC) return Broken(conn_);
    return absl::OkStatus();
  }
  // Each statement's results end with a NULL.
  Result end(PQgetResult(conn_));
  if (PQresultStatus(r.get()) == PGRES_PIPELINE_ABORTED) {
    // Skipped after an earlier error, which is what we report.
    if (p.kind == Pending::Kind::kPrepare) names_.erase(p.sql);
    return absl::OkStatus();
  }
  ExecOutcome outcome = OutcomeOf(r.get());
  if (p.kind == Pending::Kind::kPrepare) {
    if (!outcome.status.ok()) {
      names_.erase(p.sql);
      if (first_error_.ok()) first_error_ = outcome.status;
    }
    return absl::OkStatus();
  }
  if (first_error_.ok()) first_error_ = p.done(outcome);
  return absl::OkStatus();
}

absl::Status Pipeline::Finish() {
  if (!on_) return first_error_;
  if (unsynced_ > 0 || pending_.empty() || pending_.back().kind != Pending::Kind::kSync) {
    if (PQpipelineSync(conn_) != 1) return Broken(conn_);
    pending_.push_back({Pending::Kind::kSync, "", nullptr});
    unsynced_ = 0;
    ++syncs_in_flight_;
  }
  while (!pending_.empty()) {
    if (absl::Status s = ReadOne(); !s.ok()) {
      pending_.clear();
      syncs_in_flight_ = 0;
      on_ = false;
      return s;
    }
  }
  on_ = false;
  if (PQexitPipelineMode(conn_) != 1) return Broken(conn_);
  return first_error_;
}

}  // namespace pgmerge::swap::internal
