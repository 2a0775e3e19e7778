// The swap journal never writes through or replaces what is not its own
// regular file: a planted link beside it, a FIFO or a link in its place.
#include "swap/journal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pgmerge::swap::internal {
namespace {

std::string Dir(const std::string& name) {
  std::string d = absl::StrCat(::testing::TempDir(), "/pgmerge-journal-", getpid(), "-", name);
  mkdir(d.c_str(), 0700);
  return d;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Journal NewJournal(const std::string& path) {
  Journal j;
  j.path = path;
  j.state["format"] = "pgmerge-swap-state";
  j.state["main"] = "app";
  return j;
}

TEST(JournalTest, WritesReadsAndReplacesItsOwnFile) {
  const std::string path = Dir("plain") + "/state.json";
  Journal j = NewJournal(path);
  ASSERT_TRUE(j.Write("preconditions_ok").ok());
  ASSERT_TRUE(j.Write("closed").ok());
  absl::StatusOr<nlohmann::json> back = ReadJournal(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->value("step", ""), "closed");
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);  // Nothing left beside it.
}

TEST(JournalTest, APlantedLinkBesideItIsNotFollowed) {
  const std::string dir = Dir("planted");
  const std::string victim = dir + "/victim";
  std::ofstream(victim) << "precious\n";
  ASSERT_EQ(symlink(victim.c_str(), (dir + "/state.json.tmp").c_str()), 0);
  Journal j = NewJournal(dir + "/state.json");
  ASSERT_TRUE(j.Write("closed").ok());
  EXPECT_EQ(ReadAll(victim), "precious\n");
  EXPECT_TRUE(absl::StrContains(ReadAll(dir + "/state.json"), "\"closed\""));
}

TEST(JournalTest, RefusesToReplaceAFifoOrALink) {
  const std::string dir = Dir("special");
  const std::string fifo = dir + "/fifo";
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Journal f = NewJournal(fifo);
  absl::Status s = f.Write("closed");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "is not a regular file")) << s;
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  const std::string link = dir + "/link";
  unlink(link.c_str());
  ASSERT_EQ(symlink((dir + "/elsewhere").c_str(), link.c_str()), 0);
  Journal l = NewJournal(link);
  EXPECT_FALSE(l.Write("closed").ok());
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

}  // namespace
}  // namespace pgmerge::swap::internal
