// The pgmerge command line: flags -> options -> stages. The only place that
// prints. Exit status: 0 done, 2 bad input or usage, 3 conflicts refused.
#ifndef PGMERGE_NO_MIMALLOC
#include <mimalloc-new-delete.h>  // The binary allocates through mimalloc.
#endif
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

extern char** environ;

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <cstdlib>
#include <climits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/output.h"
#include "merger/merge.h"
#include "merger/report.h"
#include "parser/catalog.h"
#include "storage/mirror.h"
#include "storage/object_store.h"
#include "storage/references.h"
#include "swap/catchup.h"
#include "swap/dump.h"
#include "swap/swap.h"
#include "swap/verify.h"
#include "tools/inspect.h"
#include "tools/open_dump.h"

namespace pgmerge::tools {
namespace {

constexpr char kUsage[] =
    R"(pgmerge: merge two PostgreSQL dumps so production takes development's changes

Usage:
  pgmerge PROD.sql DEV.sql [options] | psql -v ON_ERROR_STOP=1 --single-transaction -d shadow
      Merge production's dump (base + users' rows) with development's dump
      (new schema + seed rows) into one SQL stream that builds both:
      development's schema, every production row with its own key, every
      new development row (colliding keys remapped to fresh ones, foreign
      keys rewritten to follow), sequences past every key. A summary a
      table a line goes to stderr.
      Options:
        -o FILE                write the SQL to FILE instead of stdout
        --report FILE          write the JSON report (remaps, unifications,
                               conflicts, lost values, manifest) to FILE
        --fail-on-conflict     any conflict: exit 3 and write no SQL
        --allow-drop TABLE     production table dev dropped: lose its rows
                               instead of refusing (repeatable)
        --base BASE.sql        the dump both sides forked from: a three-way
                               merge (a base row edited only in dev takes
                               dev's version; deletions in prod are exact)
        --prefer prod|dev      whose version a row edited on both sides
                               keeps (default prod)
        --fill TABLE.COLUMN=VALUE
                               value for a NOT NULL column development added
                               without a default (production's rows have none)
        --rename TABLE.OLD=NEW carry production's OLD column into dev's NEW
        --rename-table OLD=NEW production's table OLD is development's NEW
        --strict               refuse to lose production values in columns
                               development dropped (other than defaults)
        --keep-prod-objects    also write the schema objects only production
                               has (listed in the report either way)
        --key-headroom N       leave the N keys above production's sequence
                               to its writes after the dump (pgmerge catch-up):
                               development's rows there are remapped above
        --dry-run              check everything, write the report and the
                               summary, write no SQL
        --quiet                no summary on stderr
      Example: pgmerge prod.sql dev.sql --report merge.json -o merged.sql

  pgmerge dump -d DB -f FILE [pg_dump options]
  pgmerge catch-up --main DB --shadow DB --report report.json [--drop-slot]
      The live switch (docs/live.md): dump on a logical slot's snapshot;
      apply the writes main got since (y') to the shadow, exactly once.

  pgmerge verify --db SHADOW --report report.json
      Check a restored shadow database against the merge's report: per table
      the row count and content hash of what the merge wrote, every sequence
      past its keys, no constraint NOT VALID, no invalid index. SHADOW is a
      database name, a conninfo string or a URI (PG* variables, the service
      file and .pgpass apply, as for psql). Exit 0 only when all hold; 1
      with each difference named.

  pgmerge swap --main NAME --shadow NAME --report report.json [options]
      Replace the live database by the verified shadow: check every
      precondition (shadow verified against the report, nobody on it, the
      role may rename both, main unchanged since the dump), close main to
      new connections, block writes, give sessions --grace seconds, then
      terminate them; check main again against production's dump (writes
      since the dump, y', stop the swap: exit 4, main reopened untouched);
      then rename main -> MAIN_old_<UTC time> and shadow -> main in one
      transaction and reopen. Prints the dark window in milliseconds. Each
      step is journaled in a state file for --resume and rollback.
      Options:
        --server CONNINFO      the server (conninfo string or URI; PG*
                               variables, service file, .pgpass apply)
        --maintenance-db NAME  where the renames run from (postgres)
        --grace SECONDS        how long sessions on main may finish (5)
        --jobs N               sessions the drift check reads main with (2)
        --old-name NAME        main's name afterwards
        --state FILE           the journal (pgmerge-swap-MAIN.json)
        --resume               finish or restart an interrupted swap
        --dry-run              check every precondition; change nothing
      NAME may also be a conninfo string or URI.

  pgmerge rollback --main NAME [--state FILE] [--force] [--dry-run]
      Undo a swap: main -> the shadow's name, the old main -> main, in one
      transaction, after closing main the way swap does. Refuses (exit 4)
      when main was written since the swap, unless --force. After a swap
      interrupted before its renames it reopens main. --server,
      --maintenance-db, --grace as for swap; --shadow NAME and --old NAME
      without a state file.

  pgmerge mirror SRC DST [--jobs N] [--dry-run] [--report mirror.json]
      Copy into DST every object of SRC that DST lacks; never overwrite,
      never delete. An object on both sides with other content (size or
      MD5/ETag) is reported, not written. SRC and DST are ALIAS/BUCKET[/PREFIX]
      (aliases from MC_HOST_<ALIAS>=https://ACCESS:SECRET@HOST:PORT or mc's
      ~/.mc/config.json) or a local directory. Exit 0 when everything
      missing was copied; 1 when some objects failed after retries.
      Plain http is refused unless the endpoint is local (loopback or a
      private address) or --allow-http is given.
      Options: --jobs N parallel transfers (4); --part-size MB (8);
      --quiet no progress or summary; --object-column TABLE.COLUMN
      (repeatable) with --prod PROD.sql --dev DEV.sql: list development's
      rows that name a differing object (they would show production's
      file); --rename-conflicts copies dev's object under a new key
      (name.dev-HASH.ext) and writes the UPDATEs for development's database
      to --sql FILE (default stdout).

  pgmerge inspect DUMP [--json]
      Print the dump's catalog: per table the row count, the key kind
      (serial / identity / integer / composite / uuid / text / none),
      foreign keys, and sequences with their values.
      Example: pgmerge inspect prod.sql --json > prod-catalog.json

DUMP is a plain pg_dump file (pg_dump -Fp, PostgreSQL 12 to 17), or "-" for
standard input. Custom, tar and directory dumps are converted with pg_restore.

Exit status: 0 success; 1 verify found differences, or a swap stopped
after main was closed (main reopened); 2 bad input, usage or a refused
precondition (message "FILE:LINE: what" for dumps); 3 conflicts refused by
--fail-on-conflict; 4 main was written since the dump (swap) or since the
swap (rollback).
)";

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "pgmerge: %s\n", std::string(status.message()).c_str());
  return 2;
}

int Usage(std::string_view message) {
  std::fprintf(stderr, "pgmerge: %.*s\n(see pgmerge --help)\n",
               static_cast<int>(message.size()), message.data());
  return 2;
}

bool WriteAll(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(STDOUT_FILENO, text.data(), text.size());
    if (n <= 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

int Inspect(const std::vector<std::string>& args) {
  std::string path;
  bool json = false;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(absl::StrCat("inspect: unknown option ", a));
    } else if (path.empty()) {
      path = a;
    } else {
      return Usage("inspect takes one dump");
    }
  }
  if (path.empty()) return Usage("inspect: which dump?");
  absl::StatusOr<MappedFile> file = OpenDump(path);
  if (!file.ok()) return Fail(file.status());
  file->AdviseSequential();
  absl::StatusOr<parser::Catalog> catalog =
      parser::ReadCatalog(file->data(), file->name(), &*file);
  if (!catalog.ok()) return Fail(catalog.status());
  std::string out = json ? CatalogJson(*catalog, file->name())
                         : CatalogText(*catalog, file->name());
  return WriteAll(out) ? 0 : 1;
}

bool WriteFile(const std::string& path, std::string_view text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

int MergeCommand(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string output_path;
  std::string report_path;
  std::string base_path;
  bool quiet = false;
  bool dry_run = false;
  merger::MergeOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    if (a == "-o" || a == "--output") {
      if (!value(&output_path)) return Usage("-o needs a file");
    } else if (a == "--report") {
      if (!value(&report_path)) return Usage("--report needs a file");
    } else if (a == "--fail-on-conflict") {
      options.fail_on_conflict = true;
    } else if (a == "--allow-drop") {
      std::string t;
      if (!value(&t)) return Usage("--allow-drop needs a table");
      options.allow_drop.push_back(t);
    } else if (a == "--base") {
      if (!value(&base_path)) return Usage("--base needs a dump");
    } else if (a == "--prefer") {
      std::string who;
      if (!value(&who) || (who != "prod" && who != "dev")) {
        return Usage("--prefer takes prod or dev");
      }
      options.prefer_dev = who == "dev";
    } else if (a == "--fill" || a == "--rename") {
      // TABLE.COLUMN=VALUE / TABLE.OLD=NEW; TABLE may be schema-qualified.
      std::string spec;
      if (!value(&spec)) return Usage(absl::StrCat(a, " needs TABLE.COLUMN=VALUE"));
      size_t eq = spec.find('=');
      size_t dot = eq == std::string::npos ? std::string::npos : spec.rfind('.', eq);
      if (eq == std::string::npos || dot == std::string::npos || dot == 0) {
        return Usage(absl::StrCat(a, " takes TABLE.COLUMN=", a == "--fill" ? "VALUE" : "NEW",
                                  ", not ", spec));
      }
      std::string table = spec.substr(0, dot);
      std::string column = spec.substr(dot + 1, eq - dot - 1);
      std::string rest = spec.substr(eq + 1);
      if (a == "--fill") {
        options.fills.push_back({table, column, rest});
      } else {
        options.column_renames.push_back({table, column, rest});
      }
    } else if (a == "--rename-table") {
      std::string spec;
      size_t eq;
      if (!value(&spec) || (eq = spec.find('=')) == std::string::npos) {
        return Usage("--rename-table takes OLD=NEW");
      }
      options.table_renames.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
    } else if (a == "--key-headroom") {  // docs/live.md
      std::string n;
      if (!value(&n) || !absl::SimpleAtoi(n, &options.key_headroom) || options.key_headroom < 0) {
        return Usage("--key-headroom takes a number of keys");
      }
    } else if (a == "--keep-prod-objects") {
      options.keep_prod_objects = true;
    } else if (a == "--strict") {
      options.strict = true;
    } else if (a == "--dry-run") {
      dry_run = true;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(absl::StrCat("unknown option ", a));
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.size() != 2) return Usage("a merge takes two dumps: PROD DEV");
  if (inputs[0] == "-" && inputs[1] == "-") {
    return Usage("only one of the dumps can be standard input");
  }
  absl::StatusOr<MappedFile> prod = OpenDump(inputs[0]);
  if (!prod.ok()) return Fail(prod.status());
  absl::StatusOr<MappedFile> dev = OpenDump(inputs[1]);
  if (!dev.ok()) return Fail(dev.status());
  std::optional<MappedFile> base;
  if (!base_path.empty()) {
    absl::StatusOr<MappedFile> b = OpenDump(base_path);
    if (!b.ok()) return Fail(b.status());
    base.emplace(std::move(*b));
    options.base = {base->data(), base->name(), &*base};
  }
  merger::DumpInput prod_in{prod->data(), prod->name(), &*prod};
  merger::DumpInput dev_in{dev->data(), dev->name(), &*dev};

  // To a file: write beside it and rename, so a failed merge leaves no
  // half-written SQL behind.
  int fd = STDOUT_FILENO;
  std::string tmp_path;
  if (dry_run) {
    fd = -1;  // Everything runs; the SQL is discarded.
  } else if (!output_path.empty()) {
    // A regular file is written beside and renamed into place; a device
    // or pipe (-o /dev/null, a FIFO) is written to as it is.
    struct stat st;
    bool special = stat(output_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    if (!special) tmp_path = output_path + ".pgmerge-tmp";
    fd = open(special ? output_path.c_str() : tmp_path.c_str(),
              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("cannot write ", output_path)));
    }
  }
  OutputBuffer out(fd);
  merger::Report refusal;
  absl::StatusOr<merger::Report> report =
      merger::Merge(prod_in, dev_in, options, &out, &refusal);
  if (fd >= 0 && fd != STDOUT_FILENO) close(fd);
  if (!report.ok()) {
    if (!tmp_path.empty()) unlink(tmp_path.c_str());
    // A refused merge still leaves its report: which rows, which checks.
    if (!report_path.empty() && !refusal.refusals.empty()) {
      WriteFile(report_path, merger::ReportJson(refusal));
    }
    if (absl::IsAborted(report.status())) {
      std::fprintf(stderr, "pgmerge: %s\n",
                   std::string(report.status().message()).c_str());
      return 3;
    }
    return Fail(report.status());
  }
  if (!tmp_path.empty() && rename(tmp_path.c_str(), output_path.c_str()) != 0) {
    unlink(tmp_path.c_str());
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("cannot write ", output_path)));
  }
  if (!report_path.empty() &&
      !WriteFile(report_path, merger::ReportJson(*report))) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("cannot write ", report_path)));
  }
  if (!quiet) std::fputs(merger::ReportSummary(*report).c_str(), stderr);
  return 0;
}

std::string ReadWhole(const std::string& path, bool* ok) {
  std::string text;
  FILE* f = std::fopen(path.c_str(), "rb");
  *ok = f != nullptr;
  if (f == nullptr) return text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

int VerifyCommand(const std::vector<std::string>& args) {
  std::string db, report_path;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--db" || args[i] == "--report") && i + 1 < args.size()) {
      (args[i] == "--db" ? db : report_path) = args[i + 1];
      ++i;
    } else {
      return Usage(absl::StrCat("verify: unknown argument ", args[i]));
    }
  }
  if (db.empty() || report_path.empty()) {
    return Usage("verify takes --db SHADOW --report report.json");
  }
  bool ok;
  std::string report = ReadWhole(report_path, &ok);
  if (!ok) return Fail(absl::NotFoundError(absl::StrCat(report_path, ": cannot read")));
  absl::StatusOr<swap::VerifyResult> result =
      swap::VerifyShadow(swap::ConnInfoFor(db), report);
  if (!result.ok()) return Fail(result.status());
  for (const std::string& p : result->problems) {
    std::fprintf(stderr, "verify: %s\n", p.c_str());
  }
  std::fprintf(stderr, "verify: %d tables, %lld rows checked: %s\n",
               result->tables_checked, static_cast<long long>(result->rows_checked),
               result->ok() ? "the shadow holds what the merge wrote"
                            : "DIFFERENCES (see above)");
  return result->ok() ? 0 : 1;
}


std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

// Ctrl-C during a swap stops it at the next safe point and reopens main,
// instead of leaving it closed.
void CatchInterrupts() {
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void LogLine(std::string_view line) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

std::string Absolute(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

bool ParseSeconds(const std::string& text, double* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(v >= 0) || v > 86400) return false;
  *out = v;
  return true;
}

int SwitchFailure(const absl::Status& status) {
  std::fprintf(stderr, "pgmerge: %s\n", std::string(status.message()).c_str());
  // Stopped after main was closed (and reopened): 1; refused before: 2.
  return absl::IsAborted(status) || absl::IsInternal(status) ? 1 : 2;
}

// Flags of swap and rollback: text values, seconds, switches. Returns 0,
// or the exit status of a usage error it printed.
int ParseSwitchFlags(const char* command, const std::vector<std::string>& args,
                     const std::map<std::string, std::string*>& text,
                     const std::map<std::string, double*>& seconds,
                     const std::map<std::string, bool*>& switches) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (auto sw = switches.find(a); sw != switches.end()) {
      *sw->second = true;
      continue;
    }
    auto t = text.find(a);
    auto sec = seconds.find(a);
    if (t == text.end() && sec == seconds.end()) {
      return Usage(absl::StrCat(command, ": unknown argument ", a));
    }
    if (i + 1 >= args.size()) return Usage(absl::StrCat(command, ": ", a, " needs a value"));
    const std::string& v = args[++i];
    if (t != text.end()) {
      *t->second = v;
    } else if (!ParseSeconds(v, sec->second)) {
      return Usage(absl::StrCat(command, ": ", a, " takes seconds"));
    }
  }
  return 0;
}

int SwapCommand(const std::vector<std::string>& args) {
  swap::SwapOptions o;
  std::string report_path;
  std::map<std::string, std::string*> text = {
      {"--main", &o.main},         {"--shadow", &o.shadow},
      {"--report", &report_path},  {"--server", &o.server},
      {"--db", &o.server},         {"--maintenance-db", &o.maintenance_db},
      {"--state", &o.state_path},  {"--old-name", &o.old_name}};
  double jobs = o.jobs;
  if (int bad = ParseSwitchFlags("swap", args, text,
                                 {{"--grace", &o.grace_seconds},
                                  {"--terminate-timeout", &o.terminate_timeout_seconds},
                                  {"--jobs", &jobs}},
                                 {{"--dry-run", &o.dry_run}, {"--resume", &o.resume}})) {
    return bad;
  }
  if (jobs < 1 || jobs > 64 || jobs != static_cast<int>(jobs)) {
    return Usage("swap: --jobs takes a number from 1 to 64");
  }
  o.jobs = static_cast<int>(jobs);
  if (o.main.empty() || (!o.resume && (o.shadow.empty() || report_path.empty()))) {
    return Usage("swap takes --main NAME --shadow NAME --report report.json");
  }
  if (!report_path.empty()) {
    bool ok;
    o.report_json = ReadWhole(report_path, &ok);
    if (!ok) return Fail(absl::NotFoundError(absl::StrCat(report_path, ": cannot read")));
    o.report_path = Absolute(report_path);
  }
  o.log = LogLine;
  o.interrupted = [] { return g_interrupted.load(); };
  CatchInterrupts();
  absl::StatusOr<swap::SwapResult> r = swap::Swap(o);
  if (!r.ok()) return SwitchFailure(r.status());
  using Outcome = swap::SwapResult::Outcome;
  if (r->outcome == Outcome::kDrift) {
    std::fprintf(stderr,
                 "swap: DRIFT (y'): %s was written after production's dump, so the shadow "
                 "lacks those writes:\n",
                 r->main.c_str());
    for (const std::string& d : r->drift) std::fprintf(stderr, "  %s\n", d.c_str());
    std::fprintf(stderr,
                 "swap: nothing was renamed; %s is open and unchanged%s. Dump it again, "
                 "merge again, restore, then swap.\n",
                 r->main.c_str(),
                 r->drift_seen_live ? " (found before closing it)"
                                    : absl::StrCat(" (closed for ", r->dark_window_ms, " ms)")
                                          .c_str());
    return 4;
  }
  if (r->outcome == Outcome::kDryRun) {
    std::fprintf(stderr,
                 "swap: --dry-run: every precondition holds; a swap would rename %s -> %s "
                 "and %s -> %s\n",
                 r->main.c_str(), r->old_name.c_str(), r->shadow.c_str(), r->main.c_str());
    return 0;
  }
  if (r->resumed_after_rename) {
    std::fprintf(stderr, "swap: done: %s is the merged database; the old one is %s\n",
                 r->main.c_str(), r->old_name.c_str());
    return 0;
  }
  std::fprintf(stderr,
               "swap: done: %s is the merged database (was %s); the old one is %s, closed to "
               "connections (pgmerge rollback --main %s undoes the swap)\n"
               "swap: dark window %lld ms (sessions %lld ms, %d terminated; drift check %lld "
               "ms over %lld rows; renames %lld ms)\n",
               r->main.c_str(), r->shadow.c_str(), r->old_name.c_str(), r->main.c_str(),
               static_cast<long long>(r->dark_window_ms), static_cast<long long>(r->waiting_ms),
               r->sessions_terminated, static_cast<long long>(r->drift_check_ms),
               static_cast<long long>(r->rows_checked), static_cast<long long>(r->rename_ms));
  return 0;
}

int RollbackCommand(const std::vector<std::string>& args) {
  swap::RollbackOptions o;
  std::string report_path;
  std::map<std::string, std::string*> text = {
      {"--main", &o.main},        {"--shadow", &o.shadow},
      {"--old", &o.old_name},     {"--report", &report_path},
      {"--server", &o.server},    {"--db", &o.server},
      {"--state", &o.state_path}, {"--maintenance-db", &o.maintenance_db}};
  if (int bad = ParseSwitchFlags("rollback", args, text,
                                 {{"--grace", &o.grace_seconds},
                                  {"--terminate-timeout", &o.terminate_timeout_seconds}},
                                 {{"--force", &o.force}, {"--dry-run", &o.dry_run}})) {
    return bad;
  }
  if (o.main.empty()) return Usage("rollback takes --main NAME");
  if (!report_path.empty()) {
    bool ok;
    o.report_json = ReadWhole(report_path, &ok);
    if (!ok) return Fail(absl::NotFoundError(absl::StrCat(report_path, ": cannot read")));
  }
  o.log = LogLine;
  o.interrupted = [] { return g_interrupted.load(); };
  CatchInterrupts();
  absl::StatusOr<swap::RollbackResult> r = swap::Rollback(o);
  if (!r.ok()) return SwitchFailure(r.status());
  using Outcome = swap::RollbackResult::Outcome;
  switch (r->outcome) {
    case Outcome::kWritesSinceSwap:
      std::fprintf(stderr,
                   "rollback: %s was written since the swap; rolling back would leave these "
                   "writes behind in %s:\n",
                   r->main.c_str(), r->shadow.c_str());
      for (const std::string& d : r->writes_since_swap) std::fprintf(stderr, "  %s\n", d.c_str());
      std::fprintf(stderr, "rollback: nothing renamed; --force rolls back anyway\n");
      return 4;
    case Outcome::kReopened:
      std::fprintf(stderr,
                   "rollback: the swap had stopped before its renames; %s (the original) is "
                   "open again\n",
                   r->main.c_str());
      return 0;
    case Outcome::kDryRun:
      std::fprintf(stderr, "rollback: --dry-run: would rename %s -> %s and %s -> %s\n",
                   r->main.c_str(), r->shadow.c_str(), r->old_name.c_str(), r->main.c_str());
      return 0;
    case Outcome::kRolledBack:
      std::fprintf(stderr,
                   "rollback: done: %s is the original again; the merged database is %s "
                   "(dark window %lld ms)\n",
                   r->main.c_str(), r->shadow.c_str(),
                   static_cast<long long>(r->dark_window_ms));
      return 0;
  }
  return 1;
}

int MirrorCommand(const std::vector<std::string>& args) {
  std::vector<std::string> places;
  std::string report_path, prod_dump, dev_dump, sql_path;
  std::vector<std::string> object_columns;
  bool quiet = false, rename_conflicts = false, allow_http = false;
  storage::MirrorOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--jobs" || a == "--part-size" || a == "--report" || a == "--object-column" ||
         a == "--prod" || a == "--dev" || a == "--sql") &&
        i + 1 < args.size()) {
      const std::string& v = args[++i];
      if (a == "--report") report_path = v;
      if (a == "--object-column") object_columns.push_back(v);
      if (a == "--prod") prod_dump = v;
      if (a == "--dev") dev_dump = v;
      if (a == "--sql") sql_path = v;
      if (a != "--jobs" && a != "--part-size") continue;
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < 1 || n > 1024) {
        return Usage(absl::StrCat("mirror: ", a, " takes a number from 1 to 1024"));
      }
      if (a == "--jobs") options.jobs = static_cast<int>(n);
      if (a == "--part-size") {
        if (n < 5) return Usage("mirror: --part-size is at least 5 (MB, S3's minimum part)");
        options.part_size = static_cast<int64_t>(n) << 20;
      }
    } else if (a == "--dry-run") {
      options.dry_run = true;
    } else if (a == "--rename-conflicts") {
      rename_conflicts = true;
    } else if (a == "--allow-http") {
      allow_http = true;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(absl::StrCat("mirror: unknown option ", a));
    } else {
      places.push_back(a);
    }
  }
  if (places.size() != 2) return Usage("mirror takes SRC DST");
  if (!object_columns.empty() && (prod_dump.empty() || dev_dump.empty())) {
    return Usage("mirror: --object-column needs --prod PROD.sql and --dev DEV.sql");
  }
  if (rename_conflicts && object_columns.empty()) {
    return Usage("mirror: --rename-conflicts needs --object-column");
  }
  // The dumps are read before anything is copied: a bad one stops here.
  std::optional<MappedFile> prod_file, dev_file;
  if (!object_columns.empty()) {
    absl::StatusOr<MappedFile> p = OpenDump(prod_dump);
    if (!p.ok()) return Fail(p.status());
    absl::StatusOr<MappedFile> d = OpenDump(dev_dump);
    if (!d.ok()) return Fail(d.status());
    prod_file.emplace(std::move(*p));
    dev_file.emplace(std::move(*d));
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::string mc_config;
  if (env.count("MC_CONFIG_DIR")) {
    mc_config = env["MC_CONFIG_DIR"] + "/config.json";
  } else if (env.count("HOME")) {
    mc_config = env["HOME"] + "/.mc/config.json";
  }
  std::unique_ptr<storage::ObjectStore> stores[2];
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<storage::Location> loc = storage::ParseLocation(places[k], env, mc_config);
    if (!loc.ok()) return Fail(absl::InvalidArgumentError(absl::StrCat("mirror: ", loc.status().message())));
    // TLS unless the endpoint is on this machine or the local network.
    if (!loc->local && absl::StartsWith(loc->endpoint, "http://") && !loc->local_network &&
        !allow_http) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "mirror: alias \"", loc->alias, "\" is plain http to ", loc->endpoint,
          ", which is not a local address: data would cross the network unencrypted; use "
          "https, or --allow-http")));
    }
    absl::StatusOr<std::unique_ptr<storage::ObjectStore>> store = storage::OpenStore(*loc);
    if (!store.ok()) return Fail(store.status());
    stores[k] = std::move(*store);
  }
  // Ctrl-C: transfers stop cleanly (no partial file, no open multipart
  // upload); a re-run copies the rest.
  options.interrupted = [] { return g_interrupted.load(); };
  CatchInterrupts();
  const bool tty = !quiet && isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  if (tty) {
    options.progress = [&](const storage::MirrorProgress& p) {
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(200) && p.objects_done != p.objects_total) return;
      last = now;
      double secs = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr, "\rmirror: %lld/%lld objects, %.1f/%.1f MB, %.1f MB/s   ",
                   static_cast<long long>(p.objects_done), static_cast<long long>(p.objects_total),
                   p.bytes_done / 1048576.0, p.bytes_total / 1048576.0,
                   secs > 0 ? p.bytes_done / 1048576.0 / secs : 0.0);
    };
  }
  absl::StatusOr<storage::MirrorResult> r = storage::Mirror(*stores[0], *stores[1], options);
  if (tty) std::fputs("\n", stderr);
  if (!r.ok()) return Fail(absl::InvalidArgumentError(absl::StrCat("mirror: ", r.status().message())));
  // Development's rows that name a differing object would show
  // production's file: list them; with --rename-conflicts copy dev's object
  // under a new key and write the SQL that points those rows at it.
  std::string sql;
  int rename_failures = 0;
  if (!object_columns.empty() && !r->differing.empty()) {
    absl::flat_hash_set<std::string> keys;
    std::map<std::string, storage::ObjectInfo> differing;
    for (const storage::ObjectOutcome& o : r->differing) {
      keys.insert(o.key);
      differing[o.key] = {o.key, o.size, o.etag};
    }
    absl::StatusOr<std::vector<storage::Reference>> refs = storage::DevReferences(
        {prod_file->data(), prod_file->name()}, {dev_file->data(), dev_file->name()},
        object_columns, keys, stores[0]->location().prefix);
    if (!refs.ok()) return Fail(refs.status());
    std::map<std::string, std::string> renamed;
    if (rename_conflicts && !options.dry_run) {
      for (const storage::Reference& ref : *refs) {
        if (renamed.count(ref.object)) continue;
        const storage::ObjectInfo& info = differing[ref.object];
        std::string to = storage::DevKeyFor(info.key, info.etag);
        bool server_side = false;
        absl::Status c = storage::CopyObject(*stores[0], *stores[1], info, to, options.part_size,
                                             &server_side, [](int64_t) {});
        // The new key carries the content's hash: present means copied by
        // an earlier run.
        if (c.ok() || absl::IsAlreadyExists(c)) {
          renamed[ref.object] = to;
        } else {
          ++rename_failures;
          std::fprintf(stderr, "mirror: FAILED to copy %s as %s: %s\n", ref.object.c_str(),
                       to.c_str(), std::string(c.message()).c_str());
        }
      }
      sql = storage::RenameSql(*refs, renamed);
    }
    for (const storage::Reference& ref : *refs) {
      std::string row;
      for (const auto& [c, v] : ref.row_key) {
        absl::StrAppend(&row, row.empty() ? "" : ", ", c, "=", v);
      }
      auto it = renamed.find(ref.object);
      r->references.push_back({ref.object, ref.table, ref.column, row,
                               it == renamed.end() ? "" : it->second});
    }
  }
  if (!report_path.empty() && !WriteFile(report_path, storage::MirrorReportJson(*r))) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("cannot write ", report_path)));
  }
  if (!quiet) {
    for (const storage::ObjectOutcome& o : r->differing) {
      std::fprintf(stderr, "mirror: differs, left alone: %s (%s)\n", o.key.c_str(),
                   o.detail.c_str());
    }
    for (const storage::ObjectOutcome& o : r->failed) {
      std::fprintf(stderr, "mirror: FAILED %s: %s\n", o.key.c_str(), o.detail.c_str());
    }
    if (r->dry_run) {
      for (const storage::ObjectOutcome& o : r->copied) {
        std::fprintf(stderr, "mirror: would copy %s (%lld bytes)\n", o.key.c_str(),
                     static_cast<long long>(o.size));
      }
    }
    for (const storage::ReferencedDifference& d : r->references) {
      std::fprintf(stderr, "mirror: dev row %s (%s) names %s, which differs: %s\n",
                   d.table.c_str(), d.row.c_str(), d.object.c_str(),
                   d.renamed_to.empty() ? "it would show production's file"
                                        : ("dev's file copied as " + d.renamed_to).c_str());
    }
    std::fprintf(stderr,
                 "mirror: %s -> %s: %s %zu objects (%.1f MB, %.1f MB/s, %lld server-side), "
                 "%zu already there, %zu differing (left alone), %zu failed\n",
                 r->source.c_str(), r->destination.c_str(),
                 r->dry_run ? "would copy" : "copied", r->copied.size(),
                 r->bytes_copied / 1048576.0,
                 r->seconds > 0 ? r->bytes_copied / 1048576.0 / r->seconds : 0.0,
                 static_cast<long long>(r->server_side_copies), r->same.size(),
                 r->differing.size(), r->failed.size());
  }
  if (!sql.empty()) {
    if (sql_path.empty() ? !WriteAll(sql) : !WriteFile(sql_path, sql)) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("cannot write ", sql_path)));
    }
    if (!quiet) {
      std::fprintf(stderr, "mirror: run the SQL%s%s on development's database, then dump it "
                           "and merge\n",
                   sql_path.empty() ? "" : " in ", sql_path.c_str());
    }
  }
  return r->failed.empty() && rename_failures == 0 ? 0 : 1;
}

// Inputs are memory-mapped: a file truncated by someone else while it is
// read raises SIGBUS. Say so plainly instead of dying of a signal.
void OnBusError(int) {
  static const char kMessage[] =
      "pgmerge: an input file changed size while it was being read; "
      "dump to a file nobody else writes, then run again\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(2);
}

int Main(int argc, char** argv) {
  struct sigaction bus = {};
  bus.sa_handler = OnBusError;
  sigaction(SIGBUS, &bus, nullptr);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
      args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "inspect") {
    return Inspect(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "verify") {
    return VerifyCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "mirror") {
    return MirrorCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "swap") {
    return SwapCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "rollback") {
    return RollbackCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (args[0] == "dump" || args[0] == "catch-up") {  // Live switch (docs/live.md).
    std::vector<std::string> rest(args.begin() + 1, args.end());
    return args[0] == "dump" ? swap::DumpCommand(rest) : swap::CatchUpCommand(rest);
  }
  if (args[0] == "merge") {
    return MergeCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return MergeCommand(args);
}

}  // namespace
}  // namespace pgmerge::tools

int main(int argc, char** argv) { return pgmerge::tools::Main(argc, argv); }
