// `pgmerge dump`: pg_dump of a live database whose end is the start of a
// change stream. On a server with wal_level=logical, a logical replication
// slot (test_decoding, which ships with PostgreSQL and needs no publication,
// so production's tables keep accepting UPDATE and DELETE whatever their
// replica identity) is created with an exported snapshot, and pg_dump runs
// on that snapshot while the replication connection that exported it stays
// open: the dump holds exactly the transactions committed before the slot's
// consistent point, and the slot streams every one after it (y'). The slot
// is recorded in a sidecar FILE.pgmerge.json (the dump itself is left as
// pg_dump wrote it, so any format pg_dump writes stays valid); `pgmerge
// catch-up` finds the slot on the server.
#ifndef PGMERGE_SWAP_DUMP_H_
#define PGMERGE_SWAP_DUMP_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pgmerge::swap {

struct DumpOptions {
  // Connection as psql takes it: -d (a name, conninfo string or URI), -h,
  // -p, -U; "" = libpq's defaults. Passed to pg_dump unchanged.
  std::string dbname, host, port, user;
  std::string file;                      // pg_dump -f FILE.
  std::vector<std::string> pg_dump_args;  // Any other pg_dump option.
  // Development's database too (`--dev DB --dev-file FILE`), dumped by a
  // plain pg_dump (no slot: development's later writes are not caught up)
  // with the same options, at the same time as production's: two pg_dump
  // processes take about half the time of one after the other. A name alone
  // is on production's server (-h/-p/-U apply); a conninfo string or URI
  // says everything itself.
  std::string dev, dev_file;
  std::string pg_dump = "pg_dump";        // The program (PATH is searched).
  std::function<void(std::string_view)> log;  // Warnings and steps.
};

struct StaleSlot {
  std::string name, database;
  bool active = false;
  std::string retained;  // WAL the slot holds back, as pg_size_pretty says.
};

struct DumpResult {
  bool logical = false;  // False: a plain dump (`why_plain` says why).
  std::string why_plain;
  std::string slot, consistent_lsn, snapshot, database;
  std::string sidecar;  // FILE.pgmerge.json, when logical.
  std::vector<StaleSlot> stale_slots;  // pgmerge slots that were there before.
  bool dev_dumped = false;             // DumpOptions::dev_file written.
};

// Errors: Unavailable (server unreachable), FailedPrecondition (the slot
// cannot be created: no REPLICATION privilege, no free slot), Internal
// (a pg_dump failed; its stderr is in the message). On every error the slot
// this call created is dropped again before returning, and no sidecar is
// left: with --dev, both dumps succeed or the call fails.
absl::StatusOr<DumpResult> Dump(const DumpOptions& options);

// The sidecar's path for a dump file.
std::string SidecarPath(std::string_view dump_file);


}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_DUMP_H_
