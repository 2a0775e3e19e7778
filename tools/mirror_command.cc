// `pgmerge mirror SRC DST`: copies the objects development's store has and
// production's lacks. The rename-conflicts phase (copy dev's differing
// object under a new key, write the UPDATEs) stays here: it composes
// storage's public calls (DevReferences, DevKeyFor, CopyObject, RenameSql)
// and moving it would add a storage API another helper owns.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/mirror.h"
#include "storage/object_store.h"
#include "storage/references.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/exit_status.h"
#include "tools/open_dump.h"
#include "tools/output_files.h"

extern char** environ;

namespace pgmerge::tools {
namespace {

struct MirrorArgs {
  std::vector<std::string> places, object_columns;
  std::string report, prod, dev, sql, jobs = "4", part_size = "8";
  bool quiet = false, rename_conflicts = false, allow_http = false, dry_run = false;
};

std::unique_ptr<CLI::App> MirrorApp(MirrorArgs* a) {
  auto app = NewApp(
      "mirror",
      "Copy into DST every object of SRC that DST lacks; never overwrite, never\n"
      "delete. An object on both sides with other content (size or MD5/ETag) is\n"
      "reported, not written. SRC and DST are ALIAS/BUCKET[/PREFIX] (aliases from\n"
      "MC_HOST_<ALIAS>=https://ACCESS:SECRET@HOST:PORT or mc's ~/.mc/config.json) or\n"
      "a local directory. Exit 0 when everything missing was copied; 1 when some\n"
      "objects failed after retries.",
      "Plain http is refused unless the endpoint is local (loopback or a private\n"
      "address) or --allow-http is given.\n"
      "Example: pgmerge mirror dev/media prodminio/media --report mirror.json");
  app->add_option("places", a->places, "source, then destination")->type_name("SRC DST");
  app->add_option("--jobs", a->jobs, "parallel transfers (default 4)")->type_name("N");
  app->add_option("--part-size", a->part_size, "multipart part size (default 8, at least 5)")
      ->type_name("MB");
  app->add_option("--report", a->report, "write the JSON report to FILE")->type_name("FILE");
  app->add_flag("--dry-run", a->dry_run, "list what would be copied; copy nothing");
  app->add_flag("-q,--quiet", a->quiet, "no progress or summary");
  app->add_flag("--allow-http", a->allow_http, "allow plain http to a non-local endpoint");
  Repeatable(app->add_option(
      "--object-column", a->object_columns,
      "a column naming objects; with --prod and --dev, list development's rows "
      "that name a differing object (repeatable)"))
      ->type_name("TABLE.COLUMN");
  app->add_option("--prod", a->prod, "production's dump, for --object-column")->type_name("PROD");
  app->add_option("--dev", a->dev, "development's dump, for --object-column")->type_name("DEV");
  app->add_flag("--rename-conflicts", a->rename_conflicts,
                "copy dev's differing object under a new key (name.dev-HASH.ext) and write "
                "the UPDATEs for development's database");
  app->add_option("--sql", a->sql, "where those UPDATEs go (default stdout)")->type_name("FILE");
  return app;
}

absl::Status Prefixed(const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("mirror: ", s.message()));
}

absl::Status WriteStdout(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("cannot write to standard output");
    text.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// The flags' checks, in the order the user reads them; an exit status when
// one fails.
std::optional<int> MirrorOptionsFrom(const MirrorArgs& a, storage::MirrorOptions* options) {
  std::optional<long> jobs = ParseCount(a.jobs, 1, 1024);
  if (!jobs) return Usage("mirror", "--jobs takes a number from 1 to 1024");
  options->jobs = static_cast<int>(*jobs);
  std::optional<long> part = ParseCount(a.part_size, 1, 1024);
  if (!part) return Usage("mirror", "--part-size takes a number from 1 to 1024");
  if (*part < 5) return Usage("mirror", "--part-size is at least 5 (MB, S3's minimum part)");
  options->part_size = static_cast<int64_t>(*part) << 20;
  options->dry_run = a.dry_run;
  if (a.places.size() != 2) return Usage("mirror", "mirror takes SRC DST");
  if (!a.object_columns.empty() && (a.prod.empty() || a.dev.empty())) {
    return Usage("mirror", "--object-column needs --prod PROD.sql and --dev DEV.sql");
  }
  if (a.rename_conflicts && a.object_columns.empty()) {
    return Usage("mirror", "--rename-conflicts needs --object-column");
  }
  return std::nullopt;
}

// The environment as a map.
std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// Where mc keeps its aliases ("" when neither variable is set).
std::string McConfigPath(const std::map<std::string, std::string>& env) {
  if (env.count("MC_CONFIG_DIR")) return env.at("MC_CONFIG_DIR") + "/config.json";
  if (env.count("HOME")) return env.at("HOME") + "/.mc/config.json";
  return "";
}

// SRC and DST opened; plain http refused unless allowed.
absl::Status OpenStores(const std::vector<std::string>& places, bool allow_http,
                        std::unique_ptr<storage::ObjectStore> stores[2]) {
  std::map<std::string, std::string> env = Environment();
  const std::string mc_config = McConfigPath(env);
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<storage::Location> loc = storage::ParseLocation(places[k], env, mc_config);
    if (!loc.ok()) return Prefixed(loc.status());
    // TLS unless the endpoint is on this machine or the local network.
    if (!loc->local && absl::StartsWith(loc->endpoint, "http://") && !loc->local_network &&
        !allow_http) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mirror: alias \"", loc->alias, "\" is plain http to ", loc->endpoint,
          ", which is not a local address: data would cross the network unencrypted; use "
          "https, or --allow-http"));
    }
    absl::StatusOr<std::unique_ptr<storage::ObjectStore>> store = storage::OpenStore(*loc);
    if (!store.ok()) return store.status();
    stores[k] = std::move(*store);
  }
  return absl::OkStatus();
}

// The progress line on a terminal, at most five times a second.
class ProgressLine {
 public:
  ProgressLine() : start_(std::chrono::steady_clock::now()), last_(start_) {}
  void Show(const storage::MirrorProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && p.objects_done != p.objects_total) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\rmirror: %lld/%lld objects, %.1f/%.1f MB, %.1f MB/s   ",
                 static_cast<long long>(p.objects_done), static_cast<long long>(p.objects_total),
                 p.bytes_done / 1048576.0, p.bytes_total / 1048576.0,
                 secs > 0 ? p.bytes_done / 1048576.0 / secs : 0.0);
  }

 private:
  std::chrono::steady_clock::time_point start_, last_;
};

// --rename-conflicts: dev's version of each differing object copied under
// a key of its own, into *renamed (object -> new key); the failures counted.
int CopyDevVersions(const std::vector<storage::Reference>& refs,
                    std::map<std::string, storage::ObjectInfo>& differing,
                    storage::ObjectStore& source, storage::ObjectStore& destination,
                    int64_t part_size, std::map<std::string, std::string>* renamed) {
  int failures = 0;
  for (const storage::Reference& ref : refs) {
    if (renamed->count(ref.object)) continue;
    const storage::ObjectInfo& info = differing[ref.object];
    std::string to = storage::DevKeyFor(info.key, info.etag);
    bool server_side = false;
    absl::Status c = storage::CopyObject(source, destination, info, to, part_size, &server_side,
                                         [](int64_t) {});
    // The new key carries the content's hash: present means copied by
    // an earlier run.
    if (c.ok() || absl::IsAlreadyExists(c)) {
      (*renamed)[ref.object] = to;
    } else {
      ++failures;
      std::fprintf(stderr, "mirror: FAILED to copy %s as %s: %s\n", ref.object.c_str(),
                   to.c_str(), std::string(c.message()).c_str());
    }
  }
  return failures;
}

// What --object-column, --prod and --dev ask for after the copy.
struct ReferenceCheck {
  const MirrorArgs& args;
  const Dump& prod;
  const Dump& dev;
  storage::ObjectStore& source;
  storage::ObjectStore& destination;
  const storage::MirrorOptions& options;
};

// Development's rows that name a differing object would show production's
// file: they go into r->references; with --rename-conflicts dev's object
// is copied under a new key and *sql points those rows at it.
absl::Status CheckReferences(const ReferenceCheck& check, storage::MirrorResult* r,
                             std::string* sql, int* rename_failures) {
  absl::flat_hash_set<std::string> keys;
  std::map<std::string, storage::ObjectInfo> differing;
  for (const storage::ObjectOutcome& o : r->differing) {
    keys.insert(o.key);
    differing[o.key] = {o.key, o.size, o.etag};
  }
  absl::StatusOr<std::vector<storage::Reference>> refs = storage::DevReferences(
      {check.prod.data(), check.prod.name}, {check.dev.data(), check.dev.name},
      check.args.object_columns, keys, check.source.location().prefix);
  if (!refs.ok()) return refs.status();
  std::map<std::string, std::string> renamed;
  if (check.args.rename_conflicts && !check.options.dry_run) {
    *rename_failures = CopyDevVersions(*refs, differing, check.source, check.destination,
                                       check.options.part_size, &renamed);
    *sql = storage::RenameSql(*refs, renamed);
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
  return absl::OkStatus();
}

// Without -q: every object left alone or failed, what a dry run would
// copy, the rows naming a differing object, and the summary line.
void PrintOutcome(const storage::MirrorResult& r) {
  for (const storage::ObjectOutcome& o : r.differing) {
    std::fprintf(stderr, "mirror: differs, left alone: %s (%s)\n", o.key.c_str(),
                 o.detail.c_str());
  }
  for (const storage::ObjectOutcome& o : r.failed) {
    std::fprintf(stderr, "mirror: FAILED %s: %s\n", o.key.c_str(), o.detail.c_str());
  }
  if (r.dry_run) {
    for (const storage::ObjectOutcome& o : r.copied) {
      std::fprintf(stderr, "mirror: would copy %s (%lld bytes)\n", o.key.c_str(),
                   static_cast<long long>(o.size));
    }
  }
  for (const storage::ReferencedDifference& d : r.references) {
    std::fprintf(stderr, "mirror: dev row %s (%s) names %s, which differs: %s\n",
                 d.table.c_str(), d.row.c_str(), d.object.c_str(),
                 d.renamed_to.empty() ? "it would show production's file"
                                      : ("dev's file copied as " + d.renamed_to).c_str());
  }
  std::fprintf(stderr,
               "mirror: %s -> %s: %s %zu objects (%.1f MB, %.1f MB/s, %lld server-side), "
               "%zu already there, %zu differing (left alone), %zu failed\n",
               r.source.c_str(), r.destination.c_str(),
               r.dry_run ? "would copy" : "copied", r.copied.size(),
               r.bytes_copied / 1048576.0,
               r.seconds > 0 ? r.bytes_copied / 1048576.0 / r.seconds : 0.0,
               static_cast<long long>(r.server_side_copies), r.same.size(),
               r.differing.size(), r.failed.size());
}

// The UPDATEs --rename-conflicts made, to --sql FILE or stdout.
absl::Status WriteRenameSql(const std::string& sql, const std::string& sql_path, bool quiet) {
  absl::Status s = sql_path.empty() ? WriteStdout(sql) : WriteFileAtomically(sql_path, sql);
  if (!s.ok()) return s;
  if (!quiet) {
    std::fprintf(stderr, "mirror: run the SQL%s%s on development's database, then dump it "
                         "and merge\n",
                 sql_path.empty() ? "" : " in ", sql_path.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

int MirrorMain(const std::vector<std::string>& args) {
  MirrorArgs a;
  std::unique_ptr<CLI::App> app = MirrorApp(&a);
  if (std::optional<int> done = Parse(*app, args)) return *done;
  storage::MirrorOptions options;
  if (std::optional<int> usage = MirrorOptionsFrom(a, &options)) return *usage;
  // The dumps are read before anything is copied: a bad one stops here.
  std::optional<Dump> prod_file, dev_file;
  if (!a.object_columns.empty()) {
    absl::StatusOr<Dump> p = OpenDump(a.prod);
    if (!p.ok()) return Fail(Command::kMirror, p.status());
    absl::StatusOr<Dump> d = OpenDump(a.dev);
    if (!d.ok()) return Fail(Command::kMirror, d.status());
    prod_file.emplace(std::move(*p));
    dev_file.emplace(std::move(*d));
  }
  std::unique_ptr<storage::ObjectStore> stores[2];
  if (absl::Status s = OpenStores(a.places, a.allow_http, stores); !s.ok()) {
    return Fail(Command::kMirror, s);
  }
  // Ctrl-C: transfers stop cleanly (no partial file, no open multipart
  // upload); a re-run copies the rest.
  options.interrupted = Interrupted;
  CatchInterrupts();
  const bool tty = !a.quiet && isatty(STDERR_FILENO);
  ProgressLine line;
  if (tty) options.progress = [&line](const storage::MirrorProgress& p) { line.Show(p); };
  absl::StatusOr<storage::MirrorResult> r = storage::Mirror(*stores[0], *stores[1], options);
  if (tty) std::fputs("\n", stderr);
  if (!r.ok()) return Fail(Command::kMirror, Prefixed(r.status()));
  std::string sql;
  int rename_failures = 0;
  if (!a.object_columns.empty() && !r->differing.empty()) {
    ReferenceCheck check{a, *prod_file, *dev_file, *stores[0], *stores[1], options};
    if (absl::Status s = CheckReferences(check, &*r, &sql, &rename_failures); !s.ok()) {
      return Fail(Command::kMirror, s);
    }
  }
  if (!a.report.empty()) {
    if (absl::Status s = WriteFileAtomically(a.report, storage::MirrorReportJson(*r)); !s.ok()) {
      return Fail(Command::kMirror, s);
    }
  }
  if (!a.quiet) PrintOutcome(*r);
  if (!sql.empty()) {
    if (absl::Status s = WriteRenameSql(sql, a.sql, a.quiet); !s.ok()) {
      return Fail(Command::kMirror, s);
    }
  }
  return r->failed.empty() && rename_failures == 0 ? kExitDone : kExitDifferences;
}

std::string MirrorHelp() {
  MirrorArgs a;
  return MirrorApp(&a)->help();
}

}  // namespace pgmerge::tools
