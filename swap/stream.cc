#include "swap/stream.h"

#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"

namespace pgmerge::swap::internal {
namespace {

uint64_t ReadBig64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

void PutBig64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i) & 0xFF));
}

struct FreeMem {
  void operator()(char* p) const { PQfreemem(p); }
};

absl::Status StreamError(PGconn* conn, std::string_view what) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return absl::UnavailableError(absl::StrCat("main's change stream ", AsAbsl(what),
                                             message.empty() ? "" : ": ", message));
}

}  // namespace

uint64_t LsnValue(std::string_view lsn) {
  size_t slash = lsn.find('/');
  if (slash == std::string_view::npos) return 0;
  uint64_t hi = std::strtoull(std::string(lsn.substr(0, slash)).c_str(), nullptr, 16);
  uint64_t lo = std::strtoull(std::string(lsn.substr(slash + 1)).c_str(), nullptr, 16);
  return hi << 32 | lo;
}

std::string LsnText(uint64_t lsn) {
  return absl::StrFormat("%X/%X", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

absl::StatusOr<Conn> ConnectReplication(const std::string& conninfo, const std::string& dbname) {
  std::vector<std::pair<std::string, std::string>> params = {{"dbname", conninfo}};
  if (!dbname.empty()) params.emplace_back("dbname", dbname);
  params.emplace_back("replication", "database");
  params.emplace_back("fallback_application_name", "pgmerge");
  return ConnectWith(params);
}

absl::Status ChangeStream::Start(const std::string& slot, uint64_t from) {
  Result r(PQexec(conn_, absl::StrCat("START_REPLICATION SLOT ", Ident(conn_, slot), " LOGICAL ",
                                      LsnText(from),
                                      " (\"include-xids\" '0', \"skip-empty-xacts\" '1')")
                             .c_str()));
  if (PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
    std::string message = PQresultErrorMessage(r.get());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InternalError(absl::StrCat("cannot stream slot ", slot, ": ", message));
  }
  confirmed_ = from;
  return absl::OkStatus();
}

// Standby status update: written = flushed = applied = what the shadow
// holds, so the slot's confirmed_flush_lsn never passes it.
absl::Status ChangeStream::SendStatus(bool reply_requested) {
  const int64_t since_2000 =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() -
      int64_t{946684800} * 1000000;
  std::string m = "r";
  for (int i = 0; i < 3; ++i) PutBig64(&m, confirmed_);
  PutBig64(&m, static_cast<uint64_t>(since_2000));
  m.push_back(reply_requested ? 1 : 0);
  if (PQputCopyData(conn_, m.data(), static_cast<int>(m.size())) != 1 || PQflush(conn_) != 0) {
    return StreamError(conn_, "broke");
  }
  return absl::OkStatus();
}

absl::Status ChangeStream::Confirm(uint64_t lsn) {
  if (lsn <= confirmed_) return absl::OkStatus();
  confirmed_ = lsn;
  return SendStatus(false);
}

absl::StatusOr<bool> ChangeStream::Read(std::string_view marker, size_t max_lines,
                                        std::vector<StreamLine>* out) {
  size_t read = 0;
  bool at_commit = false;
  for (;;) {
    if (read >= max_lines && at_commit) return false;
    char* raw = nullptr;
    const int n = PQgetCopyData(conn_, &raw, /*async=*/1);
    std::unique_ptr<char, FreeMem> buf(raw);
    if (n == 0) {
      pollfd p{PQsocket(conn_), POLLIN, 0};
      poll(&p, 1, 1000);
      if (PQconsumeInput(conn_) == 0) return StreamError(conn_, "broke");
      continue;
    }
    if (n == -1) {
      Result end(PQgetResult(conn_));
      std::string message = PQresultErrorMessage(end.get());
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return absl::UnavailableError(absl::StrCat("main's change stream ended: ", message));
    }
    if (n < 0) return StreamError(conn_, "broke");
    if (raw[0] == 'w' && n >= 25) {
      StreamLine line{ReadBig64(raw + 1), std::string(raw + 25, n - 25)};
      // test_decoding prints a transactional message at its commit, with
      // no BEGIN/COMMIT of its own: every commit before it came first.
      if (IsMarker(line.data, marker)) return true;
      at_commit = line.data == "COMMIT" || line.data.starts_with("COMMIT ");
      out->push_back(std::move(line));
      ++read;
    } else if (raw[0] == 'k' && n >= 18 && raw[17] != 0) {
      if (absl::Status s = SendStatus(false); !s.ok()) return s;
    }
  }
}

bool IsMarker(std::string_view line, std::string_view marker) {
  return !marker.empty() && line.starts_with(kMarkerPrefix) &&
         line.ends_with(absl::StrCat("content:", AsAbsl(marker)));
}

}  // namespace pgmerge::swap::internal
