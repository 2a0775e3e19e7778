// `pgmerge [merge] PROD DEV [options]`: the merge, from flags to files.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/output.h"
#include "base/status.h"
#include "merger/merge.h"
#include "merger/report.h"
#include "swap/restore.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"
#include "tools/open_dump.h"
#include "tools/output_files.h"
#include "tools/progress.h"
#include "tools/review.h"

namespace pgmerge::tools {
namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string output, report, base, prefer = "prod", restrict_key, role, review, into;
  int jobs = 2;
  int64_t key_headroom = 0;
  std::vector<std::string> allow_drop, fills, renames, table_renames, references,
      not_references;
  bool fail_on_conflict = false, fail_on_ambiguous = false, keep_prod_objects = false,
       strict = false;
  bool no_owner = false, no_privileges = false;
  bool dry_run = false, quiet = false, verbose = false;
};

constexpr char kDescription[] =
    "Merge production's dump (base + users' rows) with development's dump (new\n"
    "schema + seed rows) into one SQL stream that builds both: development's\n"
    "schema, every production row with its own key, every new development row\n"
    "(colliding keys remapped to fresh ones, foreign keys rewritten to follow),\n"
    "sequences past every key. A summary, a table a line, goes to stderr.\n"
    "PROD and DEV are pg_dump files (plain, or gzip/zstd/lz4-compressed plain,\n"
    "custom, tar or directory format), \"-\" for standard input, a FIFO or a\n"
    "process substitution such as <(zcat prod.sql.gz).";

constexpr char kFooter[] =
    "Examples: pgmerge prod.sql dev.sql --report merge.json -o merged.sql\n"
    "  set -o pipefail; pgmerge prod.sql dev.sql --report merge.json \\\n"
    "    | psql -v ON_ERROR_STOP=1 --single-transaction -d shadow\n"
    "The SQL is never written to a terminal: use -o FILE or a pipe. With -o the\n"
    "report is on disk before the SQL is renamed into place; on a pipe the\n"
    "stream's end is held back until the report is, and a run that fails after\n"
    "the first byte ends the stream so that psql --single-transaction rolls back.";

std::unique_ptr<CLI::App> MergeApp(MergeArgs* a, const std::string& name) {
  auto app = NewApp(name == "pgmerge" ? "" : name, kDescription, kFooter);
  app->add_option("dumps", a->inputs, "production's dump, then development's")
      ->type_name("PROD DEV");
  app->add_option("-o,--output", a->output,
                  "write the SQL to FILE (made whole by rename) instead of stdout")
      ->type_name("FILE");
  app->add_option("--into", a->into,
                  "restore the merge straight into this empty database over libpq instead "
                  "of writing SQL (all or nothing: a failed run leaves it empty)")
      ->type_name("CONNINFO");
  app->add_option("-j,--jobs", a->jobs,
                  "with --into: sessions that copy the tables and build the indexes and "
                  "constraints in parallel (default 2)")
      ->type_name("N")->check(CLI::Range(1, 64));
  app->add_option("--report", a->report,
                  "write the JSON report (remaps, unifications, conflicts, lost values, "
                  "manifest) to FILE")
      ->type_name("FILE");
  app->add_option("--review", a->review,
                  "write a Markdown review of the merge (mode, counts, every conflict and "
                  "inferred decision with both rows side by side, remaps, losses, risks) to FILE")
      ->type_name("FILE.md");
  app->add_flag("--fail-on-conflict", a->fail_on_conflict, "any conflict: exit 3, write no SQL");
  app->add_flag("--fail-on-ambiguous", a->fail_on_ambiguous,
                "any two-way decision the evidence left open: exit 3, write no SQL");
  app->add_option("--restrict-key", a->restrict_key,
                  "the key of the \\restrict line around the output (letters and digits; "
                  "default: derived from the inputs)")
      ->type_name("KEY");
  app->add_option("--key-headroom", a->key_headroom,
                  "leave the N keys above production's sequence to its writes after the dump "
                  "(pgmerge catch-up): development's rows there are remapped above (docs/live.md)")
      ->type_name("N")->check(CLI::NonNegativeNumber);
  Repeatable(app->add_option(
      "--allow-drop", a->allow_drop,
      "a table development dropped: lose its production rows instead of refusing "
      "(repeatable)"))
      ->type_name("TABLE");
  app->add_option("--base", a->base,
                  "the dump both sides forked from: a three-way merge (edits and deletions "
                  "exact)")
      ->type_name("BASE");
  app->add_option("--prefer", a->prefer,
                  "whose version a row edited on both sides keeps (default prod)")
      ->type_name("prod|dev");
  Repeatable(app->add_option(
      "--fill", a->fills,
      "value production's rows get for a NOT NULL column development added "
      "without a default (repeatable)"))
      ->type_name("TABLE.COLUMN=VALUE");
  Repeatable(app->add_option(
      "--rename", a->renames,
      "carry production's column OLD into development's NEW (repeatable)"))
      ->type_name("TABLE.OLD=NEW");
  Repeatable(app->add_option(
      "--rename-table", a->table_renames,
      "production's table OLD is development's NEW (repeatable)"))
      ->type_name("OLD=NEW");
  Repeatable(app->add_option(
      "--reference", a->references,
      "COLUMN holds keys of PARENT though no foreign key says so: follow them as a "
      "foreign key's (repeatable)"))
      ->type_name("TABLE.COLUMN=PARENT");
  Repeatable(app->add_option(
      "--no-reference", a->not_references,
      "COLUMN is named like a reference and is not one: leave its values as they are "
      "(repeatable)"))
      ->type_name("TABLE.COLUMN");
  app->add_flag("--strict", a->strict,
                "refuse to lose production values in columns development dropped (other "
                "than defaults)");
  app->add_flag("--keep-prod-objects", a->keep_prod_objects,
                "also write the schema objects only production has (listed in the report "
                "either way)");
  // pg_restore's names and meanings, for restoring as an application role.
  app->add_flag("-O,--no-owner", a->no_owner,
                "no ALTER ... OWNER TO (nor SET SESSION AUTHORIZATION): objects belong to "
                "the role that restores");
  app->add_flag("-x,--no-privileges,--no-acl", a->no_privileges,
                "no GRANT, REVOKE or ALTER DEFAULT PRIVILEGES");
  app->add_option("--role", a->role, "SET ROLE ROLE at the start of the SQL")
      ->type_name("ROLE");
  app->add_flag("--dry-run", a->dry_run, "check everything, write the report and summary, no SQL");
  app->add_flag("-q,--quiet", a->quiet, "no summary, no progress on stderr");
  app->add_flag("-v,--verbose", a->verbose, "each step on stderr with a timestamp");
  return app;
}

// --fill / --rename: TABLE.COLUMN=VALUE, TABLE may be schema-qualified.
bool SplitColumnSpec(const std::string& spec, std::string* table, std::string* column,
                     std::string* rest) {
  size_t eq = spec.find('=');
  size_t dot = eq == std::string::npos ? std::string::npos : spec.rfind('.', eq);
  if (eq == std::string::npos || dot == std::string::npos || dot == 0) return false;
  *table = spec.substr(0, dot);
  *column = spec.substr(dot + 1, eq - dot - 1);
  *rest = spec.substr(eq + 1);
  return true;
}

// --report / --review: the file's temporary made now when one is named.
absl::Status CreateIfNamed(const std::string& path, std::optional<AtomicFile>* file) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<AtomicFile> f = AtomicFile::Create(path);
  if (!f.ok()) return f.status();
  file->emplace(std::move(*f));
  return absl::OkStatus();
}

// -v: "HH:MM:SS.mmm pgmerge: what" on stderr.
class Verbose {
 public:
  explicit Verbose(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void Say(const std::string& what) const {
    if (!on_) return;
    ClearProgress();
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "%02d:%02d:%02d.%03ldZ pgmerge: %s (+%.3fs)\n", t.tm_hour, t.tm_min,
                 t.tm_sec, ts.tv_nsec / 1000000, what.c_str(), since);
  }
  // A dump opened, said first.
  absl::StatusOr<Dump> Open(const std::string& path) const {
    Say(absl::StrCat("reading ", path));
    return OpenDump(path);
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_;
};

// The flags as the merger's options, and the checks on them in the order
// the user reads them; an exit status when one fails. `cmd`: the command
// as the user typed it.
std::optional<int> MergeOptionsFrom(const MergeArgs& a, const std::string& cmd,
                                    merger::MergeOptions* options) {
  options->fail_on_conflict = a.fail_on_conflict;
  options->fail_on_ambiguous = a.fail_on_ambiguous;
  options->restrict_key = a.restrict_key;
  options->key_headroom = a.key_headroom;
  options->allow_drop = a.allow_drop;
  options->keep_prod_objects = a.keep_prod_objects;
  options->strict = a.strict;
  options->no_owner = a.no_owner;
  options->no_privileges = a.no_privileges;
  options->role = a.role;
  if (a.prefer != "prod" && a.prefer != "dev") return Usage(cmd, "--prefer takes prod or dev");
  options->prefer_dev = a.prefer == "dev";
  for (const std::string& spec : a.fills) {
    merger::MergeOptions::ColumnFill f;
    if (!SplitColumnSpec(spec, &f.table, &f.column, &f.value)) {
      return Usage(cmd, absl::StrCat("--fill takes TABLE.COLUMN=VALUE, not ", spec));
    }
    options->fills.push_back(f);
  }
  for (const std::string& spec : a.renames) {
    merger::MergeOptions::ColumnRename r;
    if (!SplitColumnSpec(spec, &r.table, &r.from, &r.to)) {
      return Usage(cmd, absl::StrCat("--rename takes TABLE.COLUMN=NEW, not ", spec));
    }
    options->column_renames.push_back(r);
  }
  for (const std::string& spec : a.references) {
    merger::MergeOptions::Reference r;
    if (!SplitColumnSpec(spec, &r.table, &r.column, &r.parent) || r.parent.empty()) {
      return Usage(cmd, absl::StrCat("--reference takes TABLE.COLUMN=PARENT, not ", spec));
    }
    options->references.push_back(r);
  }
  for (const std::string& spec : a.not_references) {
    merger::MergeOptions::NotReference r;
    std::string rest;
    if (!SplitColumnSpec(spec + "=", &r.table, &r.column, &rest)) {
      return Usage(cmd, absl::StrCat("--no-reference takes TABLE.COLUMN, not ", spec));
    }
    options->not_references.push_back(r);
  }
  for (const std::string& spec : a.table_renames) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) return Usage(cmd, "--rename-table takes OLD=NEW");
    options->table_renames.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
  }
  return std::nullopt;
}

// The inputs and where the SQL goes; an exit status when they cannot be.
std::optional<int> CheckInputsAndTarget(const MergeArgs& a, const std::string& cmd) {
  if (a.inputs.size() != 2) return Usage(cmd, "a merge takes two dumps: PROD DEV");
  int from_stdin = (a.inputs[0] == "-") + (a.inputs[1] == "-") + (a.base == "-");
  if (from_stdin > 1) {
    return Usage(cmd, "only one of the dumps can be standard input (the others can be FIFOs "
                      "or <(...) process substitutions)");
  }
  // pg_restore refuses to write an archive's SQL to a terminal; so does
  // pgmerge: it would scroll by and restore nothing.
  if (!a.into.empty() && (a.dry_run || !a.output.empty())) {
    return Usage(cmd, "--into restores into a database: it takes neither -o nor --dry-run");
  }
  if (!a.dry_run && a.output.empty() && a.into.empty() && isatty(STDOUT_FILENO)) {
    return Usage(cmd, "refusing to write SQL to a terminal: use -o FILE or a pipe "
                      "(| psql ...), or --dry-run");
  }
  return std::nullopt;
}

// The dumps, opened in place: the merger's inputs point into them, so they
// are never moved once opened.
struct MergeDumps {
  std::optional<Dump> prod, dev, base;
};

absl::Status OpenDumps(const MergeArgs& a, const Verbose& verbose, MergeDumps* dumps) {
  absl::StatusOr<Dump> prod = verbose.Open(a.inputs[0]);
  if (!prod.ok()) return prod.status();
  dumps->prod.emplace(std::move(*prod));
  absl::StatusOr<Dump> dev = verbose.Open(a.inputs[1]);
  if (!dev.ok()) return dev.status();
  dumps->dev.emplace(std::move(*dev));
  if (!a.base.empty()) {
    absl::StatusOr<Dump> b = verbose.Open(a.base);
    if (!b.ok()) return b.status();
    dumps->base.emplace(std::move(*b));
  }
  return absl::OkStatus();
}

// Where the run writes: the report's and the review's temporaries, the SQL
// (a file, stdout or nothing) and, with --into, the restore.
struct MergeOutputs {
  std::optional<AtomicFile> report_file, review_file;
  std::unique_ptr<SqlOutput> sql;
  std::unique_ptr<swap::IntoRestore> into;

  // A failed run: the SQL is abandoned, the target put back empty.
  absl::Status Abandon(absl::Status why) {
    sql->Abandon();
    if (into == nullptr) return why;
    const bool touched = into->touched();
    if (absl::Status w = into->Wipe(); !w.ok()) {
      return absl::Status(w.code(), absl::StrCat(why.message(), "; ", w.message()));
    }
    if (!touched) return why;
    return absl::Status(why.code(), absl::StrCat(why.message(), " (the target was dropped "
                                                 "and created again empty)"));
  }
};

absl::Status OpenOutputs(const MergeArgs& a, const Verbose& verbose, MergeOutputs* out) {
  // The report's temporary file exists before the first byte of SQL: a
  // report that cannot be written stops the run while nothing is out.
  PGM_RETURN_IF_ERROR(CreateIfNamed(a.report, &out->report_file));
  PGM_RETURN_IF_ERROR(CreateIfNamed(a.review, &out->review_file));
  PGM_ASSIGN_OR_RETURN(out->sql, SqlOutput::Open(a.output, a.dry_run || !a.into.empty()));
  if (!a.into.empty()) {
    CatchInterrupts();  // Ctrl-C wipes the target instead of leaving it half-restored.
    verbose.Say("connecting to the target");
    PGM_ASSIGN_OR_RETURN(out->into, swap::IntoRestore::Open({a.into, a.jobs,
                                                             a.verbose && !a.quiet, Interrupted}));
  }
  return absl::OkStatus();
}

// The merge itself, into the restore, the SQL stream or the SQL file.
absl::StatusOr<merger::Report> MergeTo(const merger::DumpInput& prod, const merger::DumpInput& dev,
                                       merger::MergeOptions options, MergeOutputs& to,
                                       merger::Report* refusal) {
  // Decided where the sink is: when no line of the stream can reach psql
  // (--into's sessions take the SQL over libpq, --dry-run writes none) the
  // key need not be one no input can predict, and the inputs' SHA-256, a
  // fifth of the merge's CPU, is not taken.
  if (options.restrict_key.empty() &&
      (to.into != nullptr || to.sql->kind() == SqlOutput::Kind::kDiscard)) {
    options.restrict_key = "notforpsql";
  }
  std::optional<OutputBuffer> out;
  if (to.into) {
    out.emplace(to.into->sink());
  } else if (to.sql->sink() != nullptr) {
    out.emplace(to.sql->sink());
  } else {
    out.emplace(to.sql->fd());
  }
  return merger::Merge(prod, dev, options, &*out, refusal);
}

// A refused merge still leaves its report: which rows, which checks.
void WriteRefusal(const merger::Report& refusal, MergeOutputs& to) {
  if (to.report_file && !refusal.refusals.empty() &&
      to.report_file->Write(merger::ReportJson(refusal)).ok()) {
    to.report_file->Commit().IgnoreError();
  }
  if (to.review_file && !refusal.refusals.empty() &&
      to.review_file->Write(RenderReview(refusal, ReviewRows())).ok()) {
    to.review_file->Commit().IgnoreError();
  }
}

// The report, then the review (which reads both dumps again for its rows).
absl::Status WriteReportAndReview(const merger::Report& report, const MergeDumps& dumps,
                                  const Verbose& verbose, MergeOutputs& to) {
  if (to.report_file) {
    PGM_RETURN_IF_ERROR(to.report_file->Write(merger::ReportJson(report)));
    PGM_RETURN_IF_ERROR(to.report_file->Commit());
  }
  if (to.review_file) {
    verbose.Say("writing the review");
    PGM_ASSIGN_OR_RETURN(ReviewRows rows,
                         CollectReviewRows(report, dumps.prod->data(), dumps.prod->name,
                                           dumps.dev->data(), dumps.dev->name));
    PGM_RETURN_IF_ERROR(to.review_file->Write(RenderReview(report, rows)));
    PGM_RETURN_IF_ERROR(to.review_file->Commit());
  }
  return absl::OkStatus();
}

int RunMerge(const std::vector<std::string>& args, const std::string& name) {
  MergeArgs a;
  std::unique_ptr<CLI::App> app = MergeApp(&a, name);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  const std::string cmd = name == "pgmerge" ? "" : name;  // As the user typed it.
  merger::MergeOptions options;
  if (std::optional<int> usage = MergeOptionsFrom(a, cmd, &options)) return *usage;
  if (std::optional<int> usage = CheckInputsAndTarget(a, cmd)) return *usage;
  Verbose verbose(a.verbose && !a.quiet);
  StartProgress(a.quiet);

  MergeDumps dumps;
  if (absl::Status s = OpenDumps(a, verbose, &dumps); !s.ok()) return Fail(Command::kMerge, s);
  if (dumps.base) options.base = {dumps.base->data(), dumps.base->name, &dumps.base->file};
  merger::DumpInput prod_in{dumps.prod->data(), dumps.prod->name, &dumps.prod->file};
  merger::DumpInput dev_in{dumps.dev->data(), dumps.dev->name, &dumps.dev->file};
  MergeOutputs to;
  if (absl::Status s = OpenOutputs(a, verbose, &to); !s.ok()) return Fail(Command::kMerge, s);

  verbose.Say("merging");
  merger::Report refusal;
  absl::StatusOr<merger::Report> report = MergeTo(prod_in, dev_in, options, to, &refusal);
  ClearProgress();
  if (report.ok() && to.into) {
    verbose.Say("merged; waiting for the restore");
    if (absl::Status s = to.into->Finish(); !s.ok()) {
      return Fail(Command::kMerge, to.Abandon(absl::InternalError(
                                       absl::StrCat("the restore failed: ", s.message()))));
    }
  }
  if (!report.ok()) {
    report = to.Abandon(report.status());
    WriteRefusal(refusal, to);
    return Fail(Command::kMerge, report.status());
  }
  verbose.Say("merged; writing the report");
  if (absl::Status s = WriteReportAndReview(*report, dumps, verbose, to); !s.ok()) {
    return Fail(Command::kMerge, to.Abandon(s));
  }
  if (absl::Status s = to.sql->Commit(); !s.ok()) return Fail(Command::kMerge, s);
  verbose.Say("done");
  if (!a.quiet) std::fputs(merger::ReportSummary(*report).c_str(), stderr);
  return kExitDone;
}

}  // namespace

int MergeMain(const std::vector<std::string>& args) { return RunMerge(args, "merge"); }

std::string MergeHelp() {
  MergeArgs a;
  return MergeApp(&a, "merge")->help();
}

// `pgmerge PROD DEV`: the same, named as the user typed it.
int DefaultMergeMain(const std::vector<std::string>& args) { return RunMerge(args, "pgmerge"); }

std::string DefaultMergeHelp() {
  MergeArgs a;
  return MergeApp(&a, "pgmerge")->help();
}

}  // namespace pgmerge::tools
