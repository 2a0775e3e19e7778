#include "swap/secrets.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgmerge::swap {
namespace {

TEST(RedactPasswords, ConninfoAndUriForms) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"host=db password=s3cret user=u", "host=db password=*** user=u"},
      {"password = 's3 cr\\'et' port=5", "password = *** port=5"},
      {"password=s3cret", "password=***"},
      {"postgresql://u:s3cret@db:5432/app", "postgresql://u:***@db:5432/app"},
      {"postgres://u:p@ss@db/app?sslmode=require&password=two",
       "postgres://u:***@db/app?sslmode=require&password=***"},
      {"postgresql://u@db/app", "postgresql://u@db/app"},
      {"nopassword=1 passwordx=2", "nopassword=1 passwordx=2"},
      {"invalid URI \"postgresql://u:s3cret@[::1\"", "invalid URI \"postgresql://u:***@[::1\""},
  };
  for (const auto& c : cases) EXPECT_EQ(RedactPasswords(c.in), c.out) << c.in;
}

TEST(RedactPasswords, KnownValuesAnywhere) {
  EXPECT_EQ(RedactPasswords("missing \"=\" after \"s3cret\" in connection info string",
                            PasswordsIn("host=x password=s3cret")),
            "missing \"=\" after \"***\" in connection info string");
  EXPECT_EQ(PasswordsIn("password='a b'"), (std::vector<std::string>{"a b", "'a b'"}));
}

TEST(ScrubPasswordsFromArgv, OverwritesInPlaceKeepingTheRest) {
  std::vector<std::string> store = {"pgmerge", "--server", "host=/tmp password=s3cret",
                                    "--main=postgresql://u:hunter2@db/app", "plain"};
  std::vector<char*> argv;
  for (std::string& s : store) argv.push_back(s.data());
  ScrubPasswordsFromArgv(static_cast<int>(argv.size()), argv.data());
  EXPECT_STREQ(argv[2], "host=/tmp password=xxxxxx");
  EXPECT_STREQ(argv[3], "--main=postgresql://u:xxxxxxx@db/app");
  EXPECT_STREQ(argv[4], "plain");
}

}  // namespace
}  // namespace pgmerge::swap
