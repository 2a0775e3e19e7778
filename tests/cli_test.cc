// Bad input gets one clear "FILE:LINE: what" message, exit status 2 and
// nothing on stdout; conflicts refused by --fail-on-conflict exit 3.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>
#include <string>
#include <vector>

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

// -o onto something that is not a regular file (a FIFO here, /dev/null in
// use) writes into it; only regular files are replaced atomically.
TEST(CliTest, OutputToAPipe) {
  std::string prod = Write("prod.sql", kGood);
  std::string fifo = absl::StrCat(::testing::TempDir(), "/pgmerge-", getpid(), "-out.fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    got.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  absl::StatusOr<CommandResult> r = RunCommand({PGMERGE_BINARY, prod, prod, "-o", fifo, "-q"});
  reader.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(got.find("COPY public.t (id, v) FROM stdin;"), std::string::npos);
  struct stat st;
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // A regular file is written whole, by rename.
  std::string file = absl::StrCat(::testing::TempDir(), "/pgmerge-", getpid(), "-out.sql");
  r = RunCommand({PGMERGE_BINARY, prod, prod, "-o", file, "-q"});
  EXPECT_EQ(r->exit_code, 0);
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey"), std::string::npos);
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

}  // namespace
}  // namespace pgmerge::testing
