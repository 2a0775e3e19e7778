// --review FILE.md on the bundled example (two-way and three-way), and
// what the merge writes on stderr: nothing but the summary when stderr is
// not a terminal, timestamped lines with --verbose.
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

std::string Example(const std::string& file) {
  return absl::StrCat(SourceDir(), "/testdata/example/", file);
}

std::string Temp(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/pgmerge-review-", getpid(), "-", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The section between "## title" and the next "## ".
std::string Section(const std::string& page, const std::string& title) {
  size_t at = page.find(absl::StrCat("\n## ", title, "\n"));
  if (at == std::string::npos) return "";
  size_t end = page.find("\n## ", at + 1);
  return page.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

CommandResult Pgmerge(const std::vector<std::string>& argv) {
  absl::StatusOr<CommandResult> r = RunCommand(argv);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : CommandResult{};
}

TEST(ReviewTest, TwoWayExample) {
  std::string review = Temp("two-way.md");
  CommandResult r = Pgmerge({PGMERGE_BINARY, Example("prod.sql"), Example("dev.sql"), "--dry-run",
                         "-q", "--review", review});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::string page = ReadFile(review);
  EXPECT_TRUE(absl::StartsWith(page, "# pgmerge review: ")) << page;
  EXPECT_TRUE(absl::StrContains(page, "**Mode: two-way, inferred: ")) << page;
  EXPECT_TRUE(absl::StrContains(page, "`--base FORK.sql`")) << page;
  std::string tables = Section(page, "Tables");
  EXPECT_TRUE(absl::StrContains(tables, "| table | key | prod | dev |")) << tables;
  EXPECT_TRUE(absl::StrContains(tables, "| public.users |")) << tables;
  // Every conflict with both rows, differing columns marked.
  std::string conflicts = Section(page, "Conflicts");
  EXPECT_TRUE(absl::StrContains(conflicts, "\n### ")) << conflicts;
  EXPECT_TRUE(absl::StrContains(conflicts, "| column | production | development | differs |"))
      << conflicts;
  EXPECT_TRUE(absl::StrContains(conflicts, "**≠**")) << conflicts;
  std::string inferred = Section(page, "Inferred and ambiguous decisions");
  EXPECT_TRUE(absl::StrContains(inferred, ": ambiguous\n")) << page;
  EXPECT_TRUE(absl::StrContains(Section(page, "Remapped keys"), " → ")) << page;
  EXPECT_NE(Section(page, "Lost values"), "");
  EXPECT_NE(Section(page, "Restore risks and schema changes"), "");
  // Deterministic: the same inputs give the same page.
  std::string again = Temp("two-way-again.md");
  ASSERT_EQ(Pgmerge({PGMERGE_BINARY, Example("prod.sql"), Example("dev.sql"), "--dry-run", "-q",
                 "--review", again})
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(again), page);
}

TEST(ReviewTest, ThreeWayExampleBesideTheSql) {
  std::string review = Temp("three-way.md");
  std::string sql = Temp("three-way.sql");
  CommandResult r = Pgmerge({PGMERGE_BINARY, Example("prod.sql"), Example("dev.sql"), "--base",
                         Example("base.sql"), "-q", "--review", review, "-o", sql});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string page = ReadFile(review);
  EXPECT_TRUE(absl::StrContains(page, "**Mode: three-way (--base), exact.**")) << page;
  EXPECT_FALSE(absl::StrContains(page, "inferred: ")) << page;
  EXPECT_NE(Section(page, "Deletions"), "") << page;
  EXPECT_TRUE(absl::StrContains(Section(page, "Tables"), "| public.users |")) << page;
  EXPECT_TRUE(absl::StrContains(ReadFile(sql), "COPY public.users"));
}

// A merge its checks refuse still leaves its review, the refusals first.
TEST(ReviewTest, RefusedMergeReviewed) {
  const std::string head = "SET standard_conforming_strings = on;\n";
  const std::string tail =
      "ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n"
      "-- PostgreSQL database dump complete\n";
  std::string prod = Temp("refused-prod.sql"), dev = Temp("refused-dev.sql");
  std::ofstream(prod) << head << "CREATE TABLE public.t (id integer NOT NULL, v text);\n"
                      << "COPY public.t (id, v) FROM stdin;\n1\ta\n\\.\n" << tail;
  std::ofstream(dev) << head
                     << "CREATE TABLE public.t (id integer NOT NULL, v text, w text NOT NULL);\n"
                     << "COPY public.t (id, v, w) FROM stdin;\n1\ta\tx\n\\.\n" << tail;
  std::string review = Temp("refused.md");
  std::string sql = Temp("refused.sql");
  CommandResult r = Pgmerge({PGMERGE_BINARY, prod, dev, "--review", review, "-o", sql});
  ASSERT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::ifstream(sql).good());
  std::string refused = Section(ReadFile(review), "Refused");
  EXPECT_TRUE(absl::StrContains(refused, "- " + dev + ":")) << ReadFile(review);
  EXPECT_TRUE(absl::StrContains(refused, "--fill")) << refused;
}

// Not a terminal: the summary only, no progress line (no "\r").
TEST(MergeStderrTest, SilentWhenNotATerminal) {
  CommandResult r = Pgmerge({PGMERGE_BINARY, Example("prod.sql"), Example("dev.sql"), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(r.err.find("MB read"), std::string::npos);
  EXPECT_TRUE(absl::StartsWith(r.err, "table ")) << r.err;
  CommandResult q =
      Pgmerge({PGMERGE_BINARY, Example("prod.sql"), Example("dev.sql"), "--dry-run", "--quiet"});
  ASSERT_EQ(q.exit_code, 0);
  EXPECT_EQ(q.err, "");
}

TEST(MergeStderrTest, VerboseLinesCarryTimestamps) {
  CommandResult r = Pgmerge({PGMERGE_BINARY, Example("prod.sql"), Example("dev.sql"), "--dry-run",
                         "-v", "--review", Temp("verbose.md")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex line(R"(^\d\d:\d\d:\d\d\.\d{3}Z pgmerge: .+ \(\+\d+\.\d{3}s\)$)");
  int steps = 0;
  for (absl::string_view l : absl::StrSplit(r.err, '\n')) {
    if (!absl::StrContains(l, "Z pgmerge: ")) continue;
    ++steps;
    EXPECT_TRUE(std::regex_match(std::string(l), line)) << l;
  }
  EXPECT_GE(steps, 5) << r.err;
  for (const char* step : {"pgmerge: reading ", "pgmerge: merging", "pgmerge: writing the review",
                           "pgmerge: done"}) {
    EXPECT_TRUE(absl::StrContains(r.err, step)) << step << "\n" << r.err;
  }
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace pgmerge::testing
