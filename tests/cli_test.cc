// Bad input gets one clear "FILE:LINE: what" message, exit status 2 and
// nothing on stdout; conflicts refused by --fail-on-conflict exit 3.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

// Each test runs in its own process, possibly beside others (ctest -j):
// file names carry the pid so no test rewrites a file another has open.
std::string Write(const std::string& name, const std::string& text) {
  std::string path = absl::StrCat(::testing::TempDir(), "/pgmerge-", getpid(), "-", name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const char kGood[] =
    "SET standard_conforming_strings = on;\n"
    "CREATE TABLE public.t (id integer NOT NULL, v text);\n"
    "COPY public.t (id, v) FROM stdin;\n1\ta\n2\tb\n\\.\n"
    "ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n"
    "-- PostgreSQL database dump complete\n";

struct Case {
  std::string name;
  std::string dump;
  std::string message;  // Expected in stderr, after "FILE:".
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class BadInputTest : public ::testing::TestWithParam<Case> {};

TEST_P(BadInputTest, ClearErrorNoOutput) {
  const Case& c = GetParam();
  std::string bad = Write(c.name + ".sql", c.dump);
  std::string good = Write("good.sql", kGood);
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{PGMERGE_BINARY, "inspect", bad},
        std::vector<std::string>{PGMERGE_BINARY, bad, good},
        std::vector<std::string>{PGMERGE_BINARY, good, bad}}) {
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 2) << r->err;
    EXPECT_EQ(r->out, "");
    EXPECT_NE(r->err.find(absl::StrCat(bad, ":", c.message)), std::string::npos)
        << r->err;
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << r->err;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInputTest,
    ::testing::Values(
        Case{"not_a_dump", "hello world, this is not SQL at all\n", "1:"},
        Case{"empty", "", "1: not a pg_dump file"},
        Case{"binary", std::string("\x00\x01\x02garbage", 10), "1: not a plain-format"},
        Case{"custom", "PGDMP\x01\x0e\x00", "1: a custom-format"},
        Case{"truncated_copy",
             "CREATE TABLE public.t (id integer);\nCOPY public.t (id) FROM stdin;\n1\n2\n",
             "2: COPY data block has no terminating"},
        Case{"unterminated_quote",
             "CREATE TABLE public.t (id integer);\nCOMMENT ON TABLE public.t IS 'oops;\n",
             "2: unterminated quoted string"},
        Case{"unterminated_dollar",
             "CREATE FUNCTION f() RETURNS int AS $$ select 1;\n", "1: unterminated dollar"},
        Case{"syntax_error", "CREATE TABLE public.t (id integer);\nCREATE TABLEX x;\n",
             "2:8: syntax error"},
        Case{"wrong_column_count",
             "CREATE TABLE public.t (id integer, v text);\n"
             "COPY public.t (id, v) FROM stdin;\n1\ta\n2\n\\.\n"
             "-- PostgreSQL database dump complete\n",
             "4: COPY row for public.t has 1 fields, expected 2"},
        Case{"bad_utf8",
             "CREATE TABLE public.t (v text);\nCOPY public.t (v) FROM stdin;\nok\n\xff\xfe\n\\.\n"
             "-- PostgreSQL database dump complete\n",
             "4: invalid UTF-8"},
        Case{"unknown_table", "INSERT INTO public.nope VALUES (1);\n",
             "1: table public.nope is not created"},
        Case{"no_semicolon", "CREATE TABLE public.t (id integer)\n",
             "1: statement is not terminated"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(CliTest, FailOnConflictWritesNothing) {
  std::string prod = Write("prod.sql", kGood);
  std::string dev_text = kGood;
  dev_text.replace(dev_text.find("2\tb"), 3, "2\tB");
  std::string dev = Write("dev.sql", dev_text);
  absl::StatusOr<CommandResult> r =
      RunCommand({PGMERGE_BINARY, prod, dev, "--fail-on-conflict"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3) << r->err;
  EXPECT_EQ(r->out, "");
  EXPECT_NE(r->err.find("conflicts and --fail-on-conflict"), std::string::npos);
  // Without the flag it merges, prod's version kept.
  r = RunCommand({PGMERGE_BINARY, prod, dev});
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("2\tb\n"), std::string::npos);
  EXPECT_EQ(r->out.find("2\tB\n"), std::string::npos);
}

// A FIFO in the test's directory, read whole on a thread while a command
// writes into it.
class FifoReader {
 public:
  explicit FifoReader(const std::string& name)
      : path_(absl::StrCat(::testing::TempDir(), "/pgmerge-", getpid(), "-", name)) {
    unlink(path_.c_str());
    made_ = mkfifo(path_.c_str(), 0600) == 0;
    if (made_) {
      reader_ = std::thread([this] {
        std::ifstream in(path_, std::ios::binary);
        got_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      });
    }
  }
  ~FifoReader() {
    if (reader_.joinable()) {  // Not taken (a failed assertion): open and close it, for the reader.
      int fd = open(path_.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) close(fd);
      reader_.join();
    }
    unlink(path_.c_str());
  }
  bool made() const { return made_; }
  const std::string& path() const { return path_; }
  // What came through, once the writer closed it.
  std::string Take() {
    reader_.join();
    return got_;
  }
  // Still a FIFO, not replaced by a file.
  bool StillAFifo() const {
    struct stat st;
    return stat(path_.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  }

 private:
  std::string path_;
  bool made_ = false;
  std::string got_;
  std::thread reader_;
};

// -o onto something that is not a regular file (a FIFO here, /dev/null in
// use) writes into it; only regular files are replaced atomically.
TEST(CliTest, OutputToAPipe) {
  std::string prod = Write("prod.sql", kGood);
  FifoReader fifo("out.fifo");
  ASSERT_TRUE(fifo.made());
  absl::StatusOr<CommandResult> r =
      RunCommand({PGMERGE_BINARY, prod, prod, "-o", fifo.path(), "-q"});
  const std::string got = fifo.Take();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(got.find("COPY public.t (id, v) FROM stdin;"), std::string::npos);
  EXPECT_TRUE(fifo.StillAFifo());
  // A regular file is written whole, by rename.
  std::string file = absl::StrCat(::testing::TempDir(), "/pgmerge-", getpid(), "-out.sql");
  r = RunCommand({PGMERGE_BINARY, prod, prod, "-o", file, "-q"});
  EXPECT_EQ(r->exit_code, 0);
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey"), std::string::npos);
}

// --report and --review onto a FIFO or a device write into it: a rename
// there would replace the device (as root, /dev/null itself: a run with
// --report /dev/null once left a regular file in its place).
TEST(CliTest, ReportsOntoAFifoOrADevice) {
  std::string prod = Write("prod.sql", kGood);
  absl::StatusOr<CommandResult> r;
  {
    FifoReader fifo("report.fifo");
    ASSERT_TRUE(fifo.made());
    r = RunCommand({PGMERGE_BINARY, prod, prod, "-o", "/dev/null", "-q", "--report", fifo.path()});
    const std::string got = fifo.Take();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 0) << r->err;
    EXPECT_TRUE(absl::StrContains(got, "\"pgmerge-report\"")) << got;
    EXPECT_TRUE(fifo.StillAFifo());
  }
  r = RunCommand({PGMERGE_BINARY, prod, prod, "-q", "-o", "/dev/null", "--report", "/dev/null",
                  "--review", "/dev/null"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null was replaced";
}

TEST(CliTest, StdinInput) {
  std::string prod = Write("prod.sql", kGood);
  absl::StatusOr<CommandResult> r = RunCommand({PGMERGE_BINARY, prod, "-"}, kGood);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("COPY public.t (id, v) FROM stdin;\n1\ta\n2\tb\n\\.\n"),
            std::string::npos);
}

TEST(CliTest, DroppedTableNeedsAllowDrop) {
  std::string prod = Write("prod.sql", kGood);
  std::string dev = Write("dev.sql",
                          "CREATE TABLE public.other (id integer);\n"
                          "-- PostgreSQL database dump complete\n");
  absl::StatusOr<CommandResult> r = RunCommand({PGMERGE_BINARY, prod, dev});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->out, "");
  EXPECT_NE(r->err.find("--allow-drop public.t"), std::string::npos) << r->err;
  r = RunCommand({PGMERGE_BINARY, prod, dev, "--allow-drop", "public.t"});
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->err.find("2 rows lost"), std::string::npos) << r->err;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Scratch(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/pgmerge-", getpid(), "-", name);
}

// Runs a shell command line (for pipes, FIFOs, ulimit, umask, script).
CommandResult Shell(const std::string& line, std::string_view input = {}) {
  absl::StatusOr<CommandResult> r = RunCommand({"/bin/bash", "-c", line}, input);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : CommandResult{};
}

const std::string kBin = PGMERGE_BINARY;
std::string Example(const char* file) { return SourceDir() + "/testdata/example/" + file; }

// The reference: the example merged from its plain files.
std::string ExampleMerged() {
  absl::StatusOr<CommandResult> r =
      RunCommand({kBin, Example("prod.sql"), Example("dev.sql"), "-q"});
  EXPECT_TRUE(r.ok() && r->exit_code == 0);
  return r.ok() ? r->out : "";
}

TEST(CliFlags, HelpVersionAndTypos) {
  for (const char* cmd : {"merge", "inspect", "verify", "swap", "rollback", "mirror"}) {
    for (const char* flag : {"--help", "-?"}) {
      absl::StatusOr<CommandResult> r = RunCommand({kBin, cmd, flag});
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->exit_code, 0) << cmd << " " << flag << ": " << r->err;
      EXPECT_TRUE(absl::StrContains(r->out, absl::StrCat("Usage: pgmerge ", cmd))) << r->out;
    }
    absl::StatusOr<CommandResult> h = RunCommand({kBin, "help", cmd});
    EXPECT_EQ(h->exit_code, 0);
    EXPECT_EQ(h->out, RunCommand({kBin, cmd, "--help"})->out);
  }
  // Every flag the old hand-written loops took is in the tables.
  std::string merge = RunCommand({kBin, "merge", "--help"})->out;
  for (const char* f : {"--output", "--report", "--fail-on-conflict", "--allow-drop", "--base",
                        "--prefer", "--fill", "--rename", "--rename-table", "--strict",
                        "--keep-prod-objects", "--dry-run", "--quiet"}) {
    EXPECT_TRUE(absl::StrContains(merge, f)) << f;
  }
  std::string swap = RunCommand({kBin, "swap", "--help"})->out;
  for (const char* f : {"--main", "--shadow", "--server", "--db", "--maintenance-db", "--grace",
                        "--jobs", "--old-name", "--state", "--resume", "--dry-run", "-h,--host",
                        "-p,--port", "-U,--username", "-w,--no-password", "-W,--password"}) {
    EXPECT_TRUE(absl::StrContains(swap, f)) << f;
  }
  absl::StatusOr<CommandResult> v = RunCommand({kBin, "--version"});
  EXPECT_EQ(v->exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(v->out, "pgmerge ")) << v->out;
  EXPECT_EQ(RunCommand({kBin, "-V"})->out, v->out);
  EXPECT_TRUE(absl::StrContains(RunCommand({kBin, "--help"})->out, "rollback"));

  struct Bad {
    std::vector<std::string> argv;
    std::string message;
  };
  for (const Bad& b : std::vector<Bad>{
           {{"verify", "--db"}, "pgmerge: verify: --db needs a value"},
           {{"verify", "--db", "--report", "r.json"}, "pgmerge: verify: --db needs a value"},
           {{"verfy", "--db", "x"}, "unknown command verfy; did you mean verify?"},
           {{"swpa"}, "did you mean swap?"},
           {{"verify", "--reprot", "r.json"}, "unknown option --reprot; did you mean --report?"},
           {{"merge", "a.sql", "b.sql", "--prefer", "both"}, "--prefer takes prod or dev"},
           {{"swap", "--main", "m", "--shadow", "s", "--report", "r", "--grace", "x"},
            "--grace takes seconds"},
           {{"mirror", "a", "b", "--jobs", "0"}, "--jobs takes a number from 1 to 1024"},
           {{"a.sql", "-o"}, "pgmerge: -o needs a value"},
           {{"-", "-"}, "only one of the dumps can be standard input"}}) {
    std::vector<std::string> argv = {kBin};
    argv.insert(argv.end(), b.argv.begin(), b.argv.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 2) << b.message << ": " << r->err;
    EXPECT_EQ(r->out, "");
    EXPECT_TRUE(absl::StrContains(r->err, b.message)) << r->err;
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << r->err;
  }
}

TEST(CliFlags, EqualsAndSpaceFormsAgree) {
  std::string dir = Scratch("eq");
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<CommandResult> a = RunCommand({kBin, Example("prod.sql"), Example("dev.sql"),
                                                "--report=" + dir + "/a.json", "-q",
                                                "--output=" + dir + "/a.sql"});
  absl::StatusOr<CommandResult> b = RunCommand({kBin, "merge", "--report", dir + "/b.json",
                                                Example("prod.sql"), "-o", dir + "/b.sql",
                                                Example("dev.sql"), "--quiet"});
  ASSERT_EQ(a->exit_code, 0) << a->err;
  ASSERT_EQ(b->exit_code, 0) << b->err;
  EXPECT_EQ(ReadAll(dir + "/a.sql"), ReadAll(dir + "/b.sql"));
  EXPECT_EQ(ReadAll(dir + "/a.sql"), ExampleMerged());
  EXPECT_EQ(ReadAll(dir + "/a.json"), ReadAll(dir + "/b.json"));
}

// Compressed plain dumps, by content, whatever their names; FIFOs and
// process substitution; a stream on stdin.
TEST(CliInputs, CompressedPipedAndSubstituted) {
  const std::string want = ExampleMerged();
  const std::string p = Example("prod.sql"), d = Example("dev.sql");
  const std::string dir = Scratch("inputs");
  mkdir(dir.c_str(), 0700);
  for (const std::string& line : std::vector<std::string>{
           absl::StrCat("gzip -c ", p, " > ", dir, "/p.gz; zstd -q -c ", d, " > ", dir,
                        "/d.zst; ", kBin, " ", dir, "/p.gz ", dir, "/d.zst -q"),
           absl::StrCat("lz4 -q -c ", p, " > ", dir, "/p.bin; ", kBin, " ", dir, "/p.bin ", d,
                        " -q"),
           absl::StrCat("cat ", p, " ", " | gzip -9 | ", kBin, " - ", d, " -q"),
           absl::StrCat("zstd -q -c ", d, " | ", kBin, " ", p, " - -q"),
           absl::StrCat(kBin, " <(gzip -c ", p, ") <(lz4 -q -c ", d, ") -q"),
           absl::StrCat(kBin, " <(cat ", p, ") <(cat ", d, ") -q"),
           absl::StrCat("(gzip -c ", p, "; gzip -c /dev/null) > ", dir, "/two.gz; ", kBin, " ",
                        dir, "/two.gz ", d, " -q"),
           absl::StrCat("rm -f ", dir, "/f1 ", dir, "/f2; mkfifo ", dir, "/f1 ", dir,
                        "/f2; (zstd -q -c ", p, " > ", dir, "/f1 &); (cat ", d, " > ", dir,
                        "/f2 &); ", kBin, " ", dir, "/f1 ", dir, "/f2 -q")}) {
    CommandResult r = Shell(line);
    EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.err;
    EXPECT_TRUE(r.out == want) << line;
  }
  // A truncated or corrupt compressed dump is refused, naming the user's file.
  CommandResult r = Shell(absl::StrCat("gzip -c ", p, " | head -c 1000 > ", dir, "/cut.sql.gz; ",
                                       kBin, " ", dir, "/cut.sql.gz ", d));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(absl::StrContains(r.err, dir + "/cut.sql.gz: the gzip data ends early")) << r.err;
  r = Shell(absl::StrCat("zstd -q -c ", d, " | head -c 1000 | ", kBin, " ", p, " -"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "<stdin>: the zstd data ends early")) << r.err;
  // Errors inside a compressed or piped dump name it, not a temp file.
  std::string bad = Write("bad.sql", "CREATE TABLE public.t (id integer);\nCREATE TABLEX x;\n");
  r = Shell(absl::StrCat("gzip -c ", bad, " > ", bad, ".gz; ", kBin, " ", bad, ".gz ", d));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, bad + ".gz:2:8: syntax error")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "pgmerge-input")) << r.err;
}

// pg_dump -Z 6 -f x.sql.gz (and custom dumps, also from a pipe), from a
// real server; messages and the report name the user's file.
TEST(CliInputs, PgDumpCompressedAndCustomFromAPipe) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(pg->CreateDatabase("cli_z").ok());
  ASSERT_TRUE(pg->Exec("cli_z", "CREATE TABLE t (id serial PRIMARY KEY, v text);"
                                "INSERT INTO t (v) SELECT 'row ' || g FROM generate_series(1, 500) g;")
                  .ok());
  std::string dir = Scratch("pgdump");
  mkdir(dir.c_str(), 0700);
  ASSERT_TRUE(pg->Dump("cli_z", {"-Z", "6"}, dir + "/z.sql.gz").ok());
  ASSERT_TRUE(pg->Dump("cli_z", {}, dir + "/plain.sql").ok());
  ASSERT_TRUE(pg->Dump("cli_z", {"-Fc"}, dir + "/c.dump").ok());
  EXPECT_EQ(ReadAll(dir + "/z.sql.gz").substr(0, 2), "\x1f\x8b");
  absl::StatusOr<CommandResult> want = RunCommand({kBin, dir + "/plain.sql", dir + "/plain.sql", "-q"});
  ASSERT_EQ(want->exit_code, 0) << want->err;
  CommandResult r = Shell(absl::StrCat(kBin, " ", dir, "/z.sql.gz - -q --report ", dir,
                                       "/r.json < ", dir, "/c.dump"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // (The archive's \\restrict key differs from the plain dump's.)
  EXPECT_TRUE(absl::StrContains(r.out, "COPY public.t (id, v) FROM stdin;\n1\trow 1\n")) << r.out.substr(0, 300);
  EXPECT_TRUE(absl::StrContains(r.out, "500\trow 500\n"));
  std::string report = ReadAll(dir + "/r.json");
  EXPECT_TRUE(absl::StrContains(report, dir + "/z.sql.gz")) << report.substr(0, 400);
  EXPECT_FALSE(absl::StrContains(report, "pgmerge-input")) << report.substr(0, 400);
  EXPECT_FALSE(absl::StrContains(report, "pgmerge-restore")) << report.substr(0, 400);
}

// pg_restore refuses to write to a terminal; so does pgmerge.
TEST(CliOutput, RefusesATerminal) {
  CommandResult r = Shell(absl::StrCat("script -qec '", kBin, " ", Example("prod.sql"), " ",
                                       Example("dev.sql"), "' /dev/null"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "refusing to write SQL to a terminal: use -o FILE or a pipe"))
      << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "CREATE TABLE"));
  // --dry-run and -o are fine on a terminal.
  std::string out = Scratch("tty.sql");
  r = Shell(absl::StrCat("script -qec '", kBin, " ", Example("prod.sql"), " ", Example("dev.sql"),
                         " -q -o ", out, " && ", kBin, " ", Example("prod.sql"), " ",
                         Example("dev.sql"), " -q --dry-run' /dev/null"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(ReadAll(out), ExampleMerged());
}

// -o: made with mkstemp beside the target, not through a planted link;
// the final mode is what umask gives a new file; a link as -o is refused.
TEST(CliOutput, FilesAreMadeSafely) {
  std::string dir = Scratch("files");
  mkdir(dir.c_str(), 0700);
  std::string victim = dir + "/victim";
  std::ofstream(victim) << "precious\n";
  // The old fixed temporary name, planted as a link to someone's file.
  ASSERT_EQ(symlink(victim.c_str(), (dir + "/out.sql.pgmerge-tmp").c_str()), 0);
  CommandResult r = Shell(absl::StrCat("umask 027; ", kBin, " ", Example("prod.sql"), " ",
                                       Example("dev.sql"), " -q -o ", dir, "/out.sql --report ",
                                       dir, "/r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(victim), "precious\n");
  EXPECT_EQ(ReadAll(dir + "/out.sql"), ExampleMerged());
  struct stat st;
  ASSERT_EQ(stat((dir + "/out.sql").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_EQ(stat((dir + "/r.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // Nothing left beside it.
  r = Shell(absl::StrCat("ls -A ", dir));
  EXPECT_EQ(r.out, "out.sql\nout.sql.pgmerge-tmp\nr.json\nvictim\n");
  // -o and --report onto a link: refused, the link's target untouched.
  for (const char* flag : {"-o", "--report"}) {
    std::string link = dir + "/link";
    unlink(link.c_str());
    ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
    absl::StatusOr<CommandResult> l =
        RunCommand({kBin, Example("prod.sql"), Example("dev.sql"), "-q", flag, link});
    EXPECT_EQ(l->exit_code, 2) << flag;
    EXPECT_TRUE(absl::StrContains(l->err, "is a symbolic link")) << l->err;
    EXPECT_EQ(ReadAll(victim), "precious\n");
  }
  // An unwritable report stops the run before any SQL.
  absl::StatusOr<CommandResult> u = RunCommand(
      {kBin, Example("prod.sql"), Example("dev.sql"), "-q", "--report", dir + "/no/such/r.json"});
  EXPECT_EQ(u->exit_code, 2);
  EXPECT_EQ(u->out, "");
  u = RunCommand({kBin, Example("prod.sql"), Example("dev.sql"), "-q", "-o", dir + "/o2.sql",
                  "--report", dir + "/no/such/r.json"});
  EXPECT_EQ(u->exit_code, 2);
  EXPECT_NE(access((dir + "/o2.sql").c_str(), F_OK), 0);
}

// The stream's promise: a run that exits non-zero leaves nothing a
// `psql --single-transaction` commits. The poison line is proved in every
// lexical state by cutting a real merged stream at many places (inside COPY
// rows, dollar-quoted bodies, literals, comments) and restoring each cut.
TEST(CliOutput, FailedStreamNeverCommits) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  std::string pagila = SharedTestdata() + "/pagila/pagila.dump.sql";
  std::string dir = Scratch("poison");
  mkdir(dir.c_str(), 0700);
  // A report that cannot be written once the SQL is made (the file size
  // limit applies to files, not to the pipe): exit 2, and the stream, cut
  // before its end, carries the poison.
  CommandResult r = Shell(absl::StrCat("set -o pipefail; trap '' XFSZ; (ulimit -f 1; exec ",
                                       kBin, " ", pagila, " ", pagila, " -q --report ", dir,
                                       "/r.json) | cat > ", dir, "/failed.sql"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, dir + "/r.json")) << r.err;
  std::string failed = ReadAll(dir + "/failed.sql");
  ASSERT_GT(failed.size(), size_t{1} << 20);
  EXPECT_TRUE(absl::EndsWith(failed, "must_not_commit;\n"));
  absl::StatusOr<CommandResult> full = RunCommand({kBin, pagila, pagila, "-q"});
  ASSERT_EQ(full->exit_code, 0);
  const std::string& sql = full->out;
  std::vector<size_t> cuts = {failed.size() - 80};  // Where the failed run stopped.
  for (const char* marker : {"$_$", "$$", "FROM stdin;\n", "'", "\\.\n", "COMMENT ON"}) {
    size_t at = sql.find(marker, sql.size() / 3);
    if (at != std::string::npos) cuts.push_back(at + 2);
  }
  std::mt19937_64 rng(17);
  for (int i = 0; i < 12; ++i) cuts.push_back(rng() % sql.size());
  int n = 0;
  for (size_t cut : cuts) {
    std::string db = absl::StrCat("cli_poison_", n++);
    ASSERT_TRUE(pg->CreateDatabase(db).ok());
    std::string file = absl::StrCat(dir, "/cut", n, ".sql");
    std::ofstream(file, std::ios::binary) << sql.substr(0, cut) << "\n\\.\n"
                                          << "SELECT pgmerge_failed_this_stream_is_incomplete_and_must_not_commit;\n";
    // With ON_ERROR_STOP (the README's pipeline) and without it.
    for (const char* stop : {"ON_ERROR_STOP=1", "ON_ERROR_STOP=0"}) {
      CommandResult p = Shell(absl::StrCat("/usr/lib/postgresql/15/bin/psql -X -q -h ",
                                           pg->socket_dir(), " -p ", pg->port(),
                                           " -U postgres -d ", db, " -v ", stop,
                                           " --single-transaction -f ", file, " >/dev/null"));
      // Without ON_ERROR_STOP psql exits 0 whatever failed; what counts is
      // that nothing was committed.
      if (std::string_view(stop) == "ON_ERROR_STOP=1") {
        EXPECT_NE(p.exit_code, 0) << "cut at " << cut << " " << stop;
      }
      absl::StatusOr<std::string> tables = pg->QueryValue(
          db, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace");
      ASSERT_TRUE(tables.ok());
      EXPECT_EQ(*tables, "0") << "cut at " << cut << " " << stop << ": "
                              << sql.substr(cut > 60 ? cut - 60 : 0, 60);
    }
  }
}

// psql's connection flags on verify (and, by the same table, swap and
// rollback); -W prompts on the terminal with echo off.
TEST(CliConnect, PsqlStyleFlags) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  std::string dir = Scratch("connect");
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<CommandResult> m = RunCommand(
      {kBin, Example("prod.sql"), Example("dev.sql"), "-q", "--report", dir + "/r.json", "-o",
       dir + "/m.sql"});
  ASSERT_EQ(m->exit_code, 0);
  ASSERT_TRUE(pg->CreateDatabase("cli_connect").ok());
  ASSERT_TRUE(pg->Restore("cli_connect", dir + "/m.sql").ok());
  std::string port = absl::StrCat(pg->port());
  absl::StatusOr<CommandResult> v =
      RunCommand({kBin, "verify", "-d", "cli_connect", "-h", pg->socket_dir(), "-p", port, "-U",
                  "postgres", "-w", "--report", dir + "/r.json"});
  EXPECT_EQ(v->exit_code, 0) << v->err;
  EXPECT_TRUE(absl::StrContains(v->err, "the shadow holds what the merge wrote")) << v->err;
  v = RunCommand({kBin, "verify", "--dbname=cli_connect", "--host=" + pg->socket_dir(),
                  "--port=" + port, "--username=postgres", "--report=" + dir + "/r.json"});
  EXPECT_EQ(v->exit_code, 0) << v->err;
  // A conninfo as the database wins over -h, as in psql.
  v = RunCommand({kBin, "verify", "-d", pg->ConnString("cli_connect"), "-h", "/nonexistent",
                  "--report", dir + "/r.json"});
  EXPECT_EQ(v->exit_code, 0) << v->err;
  // -W: the prompt is on the terminal, the typed password is not echoed.
  // (typed once the prompt is up: before, the terminal would echo it)
  CommandResult w = Shell(absl::StrCat("(sleep 1; echo s3cret-pw) | script -qec '", kBin,
                                       " verify -W -d cli_connect -h ", pg->socket_dir(), " -p ",
                                       port, " -U postgres --report ", dir, "/r.json' /dev/null"));
  EXPECT_EQ(w.exit_code, 0) << w.out;
  EXPECT_TRUE(absl::StrContains(w.out, "Password: ")) << w.out;
  EXPECT_FALSE(absl::StrContains(w.out, "s3cret-pw")) << w.out;
  // rollback and swap take the same flags (a precondition refuses here).
  absl::StatusOr<CommandResult> s = RunCommand(
      {kBin, "swap", "-h", pg->socket_dir(), "-p", port, "-U", "postgres", "--main",
       "cli_no_such_db", "--shadow", "cli_connect", "--report", dir + "/r.json", "--state",
       dir + "/state.json", "--dry-run"});
  EXPECT_EQ(s->exit_code, 2) << s->err;
  EXPECT_FALSE(absl::StrContains(s->err, "unknown option")) << s->err;
}
}  // namespace
}  // namespace pgmerge::testing
