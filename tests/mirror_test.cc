// `pgmerge mirror` against real S3-compatible servers (moto_server on
// 127.0.0.1, started per test on a free port) and local directories. Every
// copy is checked byte for byte by mirroring back into a fresh directory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "storage/mirror.h"
#include "storage/object_store.h"
#include "storage/xml_uri.h"
#include "tests/test_postgres.h"

extern char** environ;

namespace pgmerge::testing {
namespace {

namespace fs = std::filesystem;

std::string FindMoto() {
  if (const char* path = std::getenv("PATH")) {
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      std::string p = absl::StrCat(dir, "/moto_server");
      if (access(p.c_str(), X_OK) == 0) return p;
    }
  }
  std::error_code ec;
  for (const char* root : {"/root/.pyenv/versions", "/usr/local/pyenv/versions"}) {
    for (const auto& v : fs::directory_iterator(root, ec)) {
      fs::path p = v.path() / "bin" / "moto_server";
      if (access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
  return "";
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool Answers(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            const std::string& log) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> env, args;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::vector<std::string> a = argv;
  for (std::string& s : a) args.push_back(s.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  posix_spawn(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// A moto_server on 127.0.0.1, stopped with the object. In-memory: every
// server starts empty.
class Moto {
 public:
  explicit Moto(const std::string& binary, std::vector<std::string> env = {},
                const std::vector<std::string>& args = {}) {
    port_ = FreePort();
    std::vector<std::string> argv = {binary, "-H", "127.0.0.1", "-p", std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = Spawn(argv, env,
                 absl::StrCat("/tmp/pgmerge-moto-", port_, ".log"));
    // Up to 60 s: on a loaded machine moto takes a while to start.
    for (int i = 0; i < 1200 && !Answers(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Moto() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool up() const { return Answers(port_); }
  std::string Host(const std::string& alias, const std::string& secret = "TESTSECRET") const {
    return absl::StrCat("MC_HOST_", alias, "=http://TESTKEY:", secret, "@127.0.0.1:", port_);
  }
  int port() const { return port_; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

// Buckets are the user's to create (a missing one is an error): the tests
// make theirs with curl's own SigV4.
bool MakeBucket(int port, const std::string& name) {
  return std::system(absl::StrCat("curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user K:S -X PUT "
                                  "http://127.0.0.1:", port, "/", name, " >/dev/null")
                         .c_str()) == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

// Every file under `dir`: relative path -> content.
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = ReadAll(e.path());
  }
  return out;
}

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    moto_ = FindMoto();
    // CI must run these: a missing server there is a failure, not a skip.
    const char* ci = std::getenv("CI");
    if (moto_.empty() && ci != nullptr && std::string(ci) == "true") {
      FAIL() << "moto_server is not installed (scripts/install-deps.sh reports how)";
    }
    if (moto_.empty()) GTEST_SKIP() << "moto_server is not installed";
    dir_ = absl::StrCat("/tmp/pgmerge-mirror-test-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // pgmerge mirror with `env` (MC_HOST_*), stderr and exit status.
  CommandResult Mirror(std::vector<std::string> args, const std::vector<std::string>& env,
                       bool measure_rss = false) {
    std::vector<std::string> argv = {"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    if (measure_rss) argv.insert(argv.end(), {"/usr/bin/time", "-f", "rss_kb=%M"});
    argv.insert(argv.end(), {PGMERGE_BINARY, "mirror"});
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }

  // Objects with nested keys, odd names and empty and binary content.
  std::map<std::string, std::string> MakeTree(const std::string& dir, int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::map<std::string, std::string> files;
    for (int i = 0; i < n; ++i) {
      std::string key = absl::StrCat("media/", i % 7, "/img ", i, (i % 5 == 0 ? "+é&x" : ""),
                                     ".bin");
      std::string data(i == 0 ? 0 : rng() % 5000, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      files[key] = data;
      WriteAll(dir + "/" + key, data);
    }
    return files;
  }

  // An S3 store at `url` (http://ACCESS:SECRET@HOST:PORT), in this process,
  // with its knobs set by the test.
  std::unique_ptr<storage::ObjectStore> Open(const std::string& url, const std::string& address,
                                             storage::StoreOptions options = {}) {
    absl::StatusOr<storage::Location> loc =
        storage::ParseLocation("t/" + address, {{"MC_HOST_t", url}}, "");
    EXPECT_TRUE(loc.ok()) << loc.status();
    if (!loc.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<storage::ObjectStore>> store = storage::OpenStore(*loc, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<storage::ObjectStore> OpenDir(const std::string& dir) {
    absl::StatusOr<storage::Location> loc = storage::ParseLocation(dir, {}, "");
    EXPECT_TRUE(loc.ok()) << loc.status();
    return std::move(*storage::OpenStore(*loc));
  }

  std::string moto_, dir_;
};

// moto_server checking every signature: INITIAL_NO_AUTH_ACTION_COUNT lets
// the first calls (three per user) make IAM users; every request after
// them is verified (botocore's signer recomputes the signature) and
// checked against the user's policy.
struct IamUser {
  std::string access_key, secret_key;
  // MC_HOST_<alias> for this user on `port`; the secret percent-encoded.
  std::string Host(const std::string& alias, int port, const std::string& secret = "") const {
    return absl::StrCat("MC_HOST_", alias, "=", Url(port, secret));
  }
  std::string Url(int port, const std::string& secret = "") const {
    return absl::StrCat("http://", access_key, ":",
                        storage::internal::UriEncode(secret.empty() ? secret_key : secret, false),
                        "@127.0.0.1:", port);
  }
};

constexpr char kAllowAll[] = R"(["*"])";
constexpr char kReadOnly[] = R"(["s3:GetObject","s3:ListBucket"])";

// CreateUser, PutUserPolicy (`actions` on every resource), CreateAccessKey.
IamUser CreateUser(int port, const std::string& name, const std::string& actions) {
  auto iam = [&](const std::string& form) {
    absl::StatusOr<CommandResult> r = RunCommand(
        {"curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:iam", "--user", "K:S",
         absl::StrCat("http://127.0.0.1:", port, "/"), "--data",
         "Version=2010-05-08&" + form});
    return r.ok() ? r->out : std::string();
  };
  const std::string policy = absl::StrCat(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":)", actions,
      R"(,"Resource":"*"}]})");
  iam("Action=CreateUser&UserName=" + name);
  iam(absl::StrCat("Action=PutUserPolicy&UserName=", name, "&PolicyName=p&PolicyDocument=",
                   storage::internal::UriEncode(policy, false)));
  std::string xml = iam("Action=CreateAccessKey&UserName=" + name);
  return {storage::internal::Tag(xml, "AccessKeyId"),
          storage::internal::Tag(xml, "SecretAccessKey")};
}

// Names moto's URL decoding takes whole under authentication (it refuses
// `+ = & ( %` and non-ASCII even from AWS's SDKs; those are tested without
// authentication above). For the same reason the authenticated tests list
// whole buckets: moto verifies a listing's `prefix=a%2F` as `prefix=a/`
// and refuses it, boto3's requests included.
std::map<std::string, std::string> PlainTree(const std::string& dir, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::map<std::string, std::string> files;
  for (int i = 0; i < n; ++i) {
    std::string key = absl::StrCat("media/", i % 5, "/img-", i, ".bin");
    std::string data(i == 0 ? 0 : rng() % 3000, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    files[key] = data;
    WriteAll(dir + "/" + key, data);
  }
  return files;
}

TEST_F(MirrorTest, ManySmallObjectsBetweenServersAndBack) {
  Moto a(moto_), b(moto_);
  ASSERT_TRUE(a.up() && b.up());
  auto files = MakeTree(dir_ + "/src", 300, 1);
  std::vector<std::string> env = {a.Host("a"), b.Host("b")};
  // Buckets are the user's to create: a missing one is an error.
  ASSERT_TRUE(MakeBucket(a.port(), "photos") && MakeBucket(b.port(), "media"));
  CommandResult up = Mirror({dir_ + "/src", "a/photos", "--jobs", "8"}, env);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  // Across endpoints: streamed GET -> PUT (paged listings: see
  // SignedWritesAcceptedWithIamAuth).
  CommandResult across =
      Mirror({"a/photos", "b/media/prod", "--report", dir_ + "/r.json"}, env);
  ASSERT_EQ(across.exit_code, 0) << across.err;
  std::string report = ReadAll(dir_ + "/r.json");
  EXPECT_TRUE(absl::StrContains(report, "\"copied\": 300")) << report;
  EXPECT_TRUE(absl::StrContains(report, "\"server_side_copies\": 0")) << report;
  EXPECT_FALSE(absl::StrContains(report, "TESTSECRET"));
  CommandResult down = Mirror({"b/media/prod", dir_ + "/back"}, env);
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Tree(dir_ + "/back"), files);
  // Idempotent: a second run copies nothing.
  CommandResult again = Mirror({"a/photos", "b/media/prod", "--report", dir_ + "/r2.json"}, env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(ReadAll(dir_ + "/r2.json"), "\"copied\": 0")) << again.err;
  EXPECT_TRUE(absl::StrContains(again.err, "300 already there")) << again.err;
  EXPECT_FALSE(absl::StrContains(again.err + across.err + up.err, "TESTSECRET"));
}

// On a terminal, a progress line keeps count (run under script(1) for a
// pseudo-terminal).
TEST_F(MirrorTest, ProgressOnATerminal) {
  Moto a(moto_);
  ASSERT_TRUE(MakeBucket(a.port(), "progress"));
  MakeTree(dir_ + "/src", 30, 7);
  absl::StatusOr<CommandResult> r = RunCommand(
      {"/usr/bin/script", "-qec",
       absl::StrCat("env ", a.Host("a"), " ", PGMERGE_BINARY, " mirror ", dir_, "/src a/progress"),
       "/dev/null"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->out;
  EXPECT_TRUE(absl::StrContains(r->out, "\rmirror: 30/30 objects")) << r->out;
  EXPECT_TRUE(absl::StrContains(r->out, "copied 30 objects")) << r->out;
}

TEST_F(MirrorTest, ServerSideCopyOnOneEndpoint) {
  Moto a(moto_);
  auto files = MakeTree(dir_ + "/src", 40, 2);
  std::vector<std::string> env = {a.Host("a")};
  ASSERT_TRUE(MakeBucket(a.port(), "one") && MakeBucket(a.port(), "two"));
  ASSERT_EQ(Mirror({dir_ + "/src", "a/one"}, env).exit_code, 0);
  CommandResult r = Mirror({"a/one", "a/two/copy", "--report", dir_ + "/r.json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(ReadAll(dir_ + "/r.json"), "\"server_side_copies\": 40"));
  ASSERT_EQ(Mirror({"a/two/copy", dir_ + "/back"}, env).exit_code, 0);
  EXPECT_EQ(Tree(dir_ + "/back"), files);
}

TEST_F(MirrorTest, NeverOverwritesOrDeletes) {
  Moto a(moto_);
  std::vector<std::string> env = {a.Host("a")};
  WriteAll(dir_ + "/src/same.txt", "same");
  WriteAll(dir_ + "/src/longer.txt", "development's version");
  WriteAll(dir_ + "/src/samesize.txt", "dev!");
  WriteAll(dir_ + "/src/new.txt", "new");
  WriteAll(dir_ + "/dst/same.txt", "same");
  WriteAll(dir_ + "/dst/longer.txt", "production's");
  WriteAll(dir_ + "/dst/samesize.txt", "prod");
  WriteAll(dir_ + "/dst/only-in-prod.txt", "keep me");
  CommandResult r = Mirror({dir_ + "/src", dir_ + "/dst", "--report", dir_ + "/r.json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(dir_ + "/dst/longer.txt"), "production's");
  EXPECT_EQ(ReadAll(dir_ + "/dst/samesize.txt"), "prod");
  EXPECT_EQ(ReadAll(dir_ + "/dst/only-in-prod.txt"), "keep me");
  EXPECT_EQ(ReadAll(dir_ + "/dst/new.txt"), "new");
  std::string report = ReadAll(dir_ + "/r.json");
  EXPECT_TRUE(absl::StrContains(report, "\"differing\": 2")) << report;
  EXPECT_TRUE(absl::StrContains(r.err, "differs, left alone: longer.txt")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "differs, left alone: samesize.txt (same size, MD5"))
      << r.err;
  // The same on S3: same-size different content is found by MD5 (ETag).
  ASSERT_TRUE(MakeBucket(a.port(), "bkt-b"));
  fs::remove(dir_ + "/dst/new.txt");
  ASSERT_EQ(Mirror({dir_ + "/dst", "a/bkt-b"}, env).exit_code, 0);
  CommandResult s3 = Mirror({dir_ + "/src", "a/bkt-b"}, env);
  ASSERT_EQ(s3.exit_code, 0) << s3.err;
  EXPECT_TRUE(absl::StrContains(s3.err, "copied 1 objects")) << s3.err;
  EXPECT_TRUE(absl::StrContains(s3.err, "2 differing")) << s3.err;
  ASSERT_EQ(Mirror({"a/bkt-b", dir_ + "/check"}, env).exit_code, 0);
  EXPECT_EQ(ReadAll(dir_ + "/check/samesize.txt"), "prod");
  EXPECT_EQ(ReadAll(dir_ + "/check/new.txt"), "new");
}

// 100 MB through multipart upload and ranged GETs: memory stays bounded
// by the part size, whatever the object's size.
TEST_F(MirrorTest, LargeObjectInBoundedMemory) {
  Moto a(moto_), b(moto_);
  std::vector<std::string> env = {a.Host("a"), b.Host("b")};
  std::string big(100 << 20, '\0');
  std::mt19937_64 rng(3);
  for (size_t i = 0; i + 8 <= big.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&big[i], &v, 8);
  }
  WriteAll(dir_ + "/src/video.mp4", big);
  ASSERT_TRUE(MakeBucket(a.port(), "videos") && MakeBucket(b.port(), "videos"));
  for (auto [from, to] : {std::pair<std::string, std::string>{dir_ + "/src", "a/videos"},
                          {"a/videos", "b/videos"},
                          {"b/videos", dir_ + "/back"}}) {
    CommandResult r = Mirror({from, to}, env, /*measure_rss=*/true);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    size_t at = r.err.rfind("rss_kb=");
    ASSERT_NE(at, std::string::npos) << r.err;
    long rss_kb = std::atol(r.err.c_str() + at + 7);
    std::cerr << from << " -> " << to << ": peak RSS " << rss_kb / 1024 << " MB\n";
#ifndef PGMERGE_SANITIZED  // ASan's quarantine keeps freed parts resident.
    EXPECT_LT(rss_kb, 64 * 1024) << from << " -> " << to;
#endif
  }
  EXPECT_TRUE(ReadAll(dir_ + "/back/video.mp4") == big);
  // Server-side in parts (UploadPartCopy), as objects over 5 GiB are: the
  // limit lowered to 16 MB, so 100 MB goes in 7 parts.
  ASSERT_TRUE(MakeBucket(a.port(), "parts"));
  {
    auto from = Open(absl::StrCat("http://TESTKEY:TESTSECRET@127.0.0.1:", a.port()), "videos",
                     {1000, int64_t{16} << 20});
    auto to = Open(absl::StrCat("http://TESTKEY:TESTSECRET@127.0.0.1:", a.port()), "parts",
                   {1000, int64_t{16} << 20});
    storage::MirrorOptions options;
    absl::StatusOr<storage::MirrorResult> parts = storage::Mirror(*from, *to, options);
    ASSERT_TRUE(parts.ok()) << parts.status();
    EXPECT_EQ(parts->server_side_copies, 1);
  }
  ASSERT_EQ(Mirror({"a/parts", dir_ + "/parts-back"}, env).exit_code, 0);
  EXPECT_TRUE(ReadAll(dir_ + "/parts-back/video.mp4") == big);
  // Present on both, multipart ETags: compared by content, found the same.
  CommandResult again = Mirror({"a/videos", "b/videos"}, env);
  EXPECT_TRUE(absl::StrContains(again.err, "1 already there")) << again.err;
}

// Killed mid-way, a re-run completes the mirror; nothing half-written is
// ever visible at the destination.
TEST_F(MirrorTest, InterruptedRunCompletedByRerun) {
  Moto a(moto_);
  std::vector<std::string> env = {a.Host("a")};
  auto files = MakeTree(dir_ + "/src", 150, 4);
  std::string big(60 << 20, 'x');
  files["zz/big.bin"] = big;
  WriteAll(dir_ + "/src/zz/big.bin", big);
  ASSERT_TRUE(MakeBucket(a.port(), "mirror"));
  std::vector<std::string> spawn_env = env;
  pid_t pid = Spawn({PGMERGE_BINARY, "mirror", dir_ + "/src", "a/mirror", "--jobs", "2"}, spawn_env,
                    dir_ + "/killed.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // Whatever made it is complete.
  ASSERT_EQ(Mirror({"a/mirror", dir_ + "/partial"}, env).exit_code, 0);
  auto partial = Tree(dir_ + "/partial");
  EXPECT_LT(partial.size(), files.size()) << "the run was not interrupted; kill it sooner";
  for (const auto& [key, data] : partial) EXPECT_EQ(data, files[key]) << key;
  CommandResult rerun = Mirror({dir_ + "/src", "a/mirror"}, env);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  ASSERT_EQ(Mirror({"a/mirror", dir_ + "/back"}, env).exit_code, 0);
  EXPECT_EQ(Tree(dir_ + "/back"), files);
}

TEST_F(MirrorTest, ServerDyingMidwayFailsTheObjectClearly) {
  auto b = std::make_unique<Moto>(moto_);
  std::vector<std::string> env = {b->Host("b")};
  WriteAll(dir_ + "/src/big.bin", std::string(60 << 20, 'y'));
  ASSERT_TRUE(MakeBucket(b->port(), "mirror"));
  // Killed once the parts are going (after the listing and write probe).
  const std::string log = absl::StrCat("/tmp/pgmerge-moto-", b->port(), ".log");
  std::thread killer([&]() {
    for (int i = 0; i < 1000 && !absl::StrContains(ReadAll(log), "partNumber=1&"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    b->Kill();
  });
  CommandResult r = Mirror({dir_ + "/src", "b/mirror", "--part-size", "5"}, env);
  killer.join();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "FAILED big.bin: cannot reach http://127.0.0.1:"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "TESTSECRET"));
}

// Ctrl-C stops cleanly: exit 1, no partial file left, a re-run finishes.
TEST_F(MirrorTest, CtrlCLeavesNoPartialFile) {
  Moto a(moto_);
  std::string big(80 << 20, 'q');
  WriteAll(dir_ + "/src/big.bin", big);
  ASSERT_TRUE(MakeBucket(a.port(), "ctrlc"));
  ASSERT_EQ(Mirror({dir_ + "/src", "a/ctrlc"}, {a.Host("a")}).exit_code, 0);
  pid_t pid = Spawn({PGMERGE_BINARY, "mirror", "a/ctrlc", dir_ + "/dst"}, {a.Host("a")},
                    dir_ + "/ctrlc.log");
  // Interrupt once the download has begun.
  for (int i = 0; i < 400; ++i) {
    bool started = false;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir_ + "/dst", ec)) {
      started = started || e.is_regular_file();
    }
    if (started) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << ReadAll(dir_ + "/ctrlc.log");
  auto left = Tree(dir_ + "/dst");
  if (WEXITSTATUS(status) == 1) {
    EXPECT_TRUE(left.empty()) << left.begin()->first;  // The partial file is gone.
    EXPECT_TRUE(absl::StrContains(ReadAll(dir_ + "/ctrlc.log"), "interrupted"));
  } else {
    EXPECT_EQ(WEXITSTATUS(status), 0);  // Finished before the signal.
  }
  ASSERT_EQ(Mirror({"a/ctrlc", dir_ + "/dst"}, {a.Host("a")}).exit_code, 0);
  EXPECT_TRUE(ReadAll(dir_ + "/dst/big.bin") == big);
}

// The source server dies mid-way: what was copied is complete, the run
// exits 1; once the server is back (moto keeps nothing, so it is filled
// again from the same files) a re-run copies only what is still missing.
TEST_F(MirrorTest, SourceServerKilledMidwayThenRerun) {
  auto files = MakeTree(dir_ + "/orig", 200, 6);
  std::string big(40 << 20, 'z');
  files["zz/big.bin"] = big;
  WriteAll(dir_ + "/orig/zz/big.bin", big);
  auto src = std::make_unique<Moto>(moto_);
  ASSERT_TRUE(MakeBucket(src->port(), "devmedia"));
  ASSERT_EQ(Mirror({dir_ + "/orig", "s/devmedia"}, {src->Host("s")}).exit_code, 0);
  std::thread killer([&]() {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    src->Kill();
  });
  CommandResult first = Mirror({"s/devmedia", dir_ + "/prodmedia", "--jobs", "2"},
                               {src->Host("s")});
  killer.join();
  EXPECT_NE(first.exit_code, 0) << first.err;
  auto partial = Tree(dir_ + "/prodmedia");
  ASSERT_LT(partial.size(), files.size()) << "finished before the kill; kill sooner";
  for (const auto& [key, data] : partial) {
    EXPECT_FALSE(absl::StrContains(key, "pgmerge-partial")) << key;
    EXPECT_EQ(data, files[key]) << key;
  }
  Moto back(moto_);
  ASSERT_TRUE(MakeBucket(back.port(), "devmedia"));
  ASSERT_EQ(Mirror({dir_ + "/orig", "s/devmedia"}, {back.Host("s")}).exit_code, 0);
  CommandResult rerun = Mirror({"s/devmedia", dir_ + "/prodmedia", "--report", dir_ + "/r.json"},
                               {back.Host("s")});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(absl::StrContains(rerun.err, absl::StrCat(partial.size(), " already there")))
      << rerun.err;
  EXPECT_EQ(Tree(dir_ + "/prodmedia"), files);
}

// Keys are any strings on S3; into a directory only safe relative paths go.
TEST_F(MirrorTest, KeysThatWouldEscapeTheDirectoryAreRefused) {
  Moto a(moto_);
  ASSERT_TRUE(MakeBucket(a.port(), "evil"));
  ASSERT_EQ(std::system(absl::StrCat("printf x | curl -sf --path-as-is --aws-sigv4 "
                                     "aws:amz:us-east-1:s3 --user K:S -T - "
                                     "'http://127.0.0.1:", a.port(),
                                     "/evil/a/%2E%2E/%2E%2E/escaped.txt' >/dev/null && "
                                     "printf y | curl -sf --aws-sigv4 aws:amz:us-east-1:s3 "
                                     "--user K:S -T - http://127.0.0.1:", a.port(),
                                     "/evil/fine.txt >/dev/null")
                            .c_str()),
            0);
  fs::create_directories(dir_ + "/inside/dst");
  CommandResult r = Mirror({"a/evil", dir_ + "/inside/dst"}, {a.Host("a")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "FAILED a/../../escaped.txt: the key is not a safe")) << r.err;
  EXPECT_EQ(ReadAll(dir_ + "/inside/dst/fine.txt"), "y");
  EXPECT_FALSE(fs::exists(dir_ + "/escaped.txt"));
  EXPECT_FALSE(fs::exists(dir_ + "/inside/escaped.txt"));
  // Between buckets such a key is an ordinary object, copied as it is.
  ASSERT_TRUE(MakeBucket(a.port(), "evil-copy"));
  Moto b(moto_);
  ASSERT_TRUE(MakeBucket(b.port(), "other"));
  CommandResult across = Mirror({"a/evil", "b/other"}, {a.Host("a"), b.Host("b")});
  ASSERT_EQ(across.exit_code, 0) << across.err;
  CommandResult check = Mirror({"b/other", "a/evil-copy", "--dry-run"}, {a.Host("a"), b.Host("b")});
  EXPECT_TRUE(absl::StrContains(check.err, "would copy a/../../escaped.txt (1 bytes)")) << check.err;
}

// Each a single clear line, exit 2, no secret.
TEST_F(MirrorTest, ClearErrors) {
  Moto open_server(moto_);
  // moto checks credentials once its free actions are used up.
  Moto strict(moto_, {"INITIAL_NO_AUTH_ACTION_COUNT=0"});
  ASSERT_TRUE(open_server.up() && strict.up());
  WriteAll(dir_ + "/src/a.txt", "a");
  struct Case {
    std::vector<std::string> env;
    std::string dst, want;
  };
  const int closed = FreePort();
  std::vector<Case> cases = {
      {{strict.Host("s", "wrong-secret")}, "s/bucket", "access denied by s/bucket"},
      {{open_server.Host("o")}, "o/missing-bucket", "bucket \"missing-bucket\" does not exist"},
      {{absl::StrCat("MC_HOST_c=http://TESTKEY:TESTSECRET@127.0.0.1:", closed)}, "c/b",
       "cannot reach http://127.0.0.1:"},
      {{}, "nosuchalias/b", "unknown alias \"nosuchalias\""},
      // Never contacted: refused before any connection.
      {{"MC_HOST_far=http://TESTKEY:TESTSECRET@203.0.113.7:9000"}, "far/b",
       "is plain http to http://203.0.113.7:9000, which is not a local address"},
  };
  for (const Case& c : cases) {
    CommandResult r = Mirror({dir_ + "/src", c.dst}, c.env);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, c.want)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(absl::StrContains(r.err, "wrong-secret") || absl::StrContains(r.err, "TESTSECRET"))
        << r.err;
  }
}

TEST_F(MirrorTest, AliasesFromMcConfigAndDryRun) {
  Moto a(moto_);
  WriteAll(dir_ + "/mc/config.json",
           absl::StrCat(R"({"version": "10", "aliases": {"prodminio": {"url": "http://127.0.0.1:)",
                        a.port(),
                        R"(", "accessKey": "K", "secretKey": "S", "api": "s3v4", "path": "auto"}}})"));
  ASSERT_TRUE(MakeBucket(a.port(), "media"));
  auto files = MakeTree(dir_ + "/src", 10, 5);
  std::vector<std::string> env = {"MC_CONFIG_DIR=" + dir_ + "/mc"};
  CommandResult dry = Mirror({dir_ + "/src", "prodminio/media", "--dry-run"}, env);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(absl::StrContains(dry.err, "would copy 10 objects")) << dry.err;
  ASSERT_EQ(Mirror({"prodminio/media", dir_ + "/empty"}, env).exit_code, 0);
  EXPECT_TRUE(Tree(dir_ + "/empty").empty());  // The dry run wrote nothing.
  ASSERT_EQ(Mirror({dir_ + "/src", "prodminio/media"}, env).exit_code, 0);
  ASSERT_EQ(Mirror({"prodminio/media", dir_ + "/back"}, env).exit_code, 0);
  EXPECT_EQ(Tree(dir_ + "/back"), files);
}

// Every operation the mirror uses, against moto_server with IAM
// authentication on: small PUTs, multipart upload, CopyObject,
// UploadPartCopy, copies across two endpoints, listings of many pages,
// re-runs, never-overwrite. In this process, so the test sets the knobs
// (7 keys a page, part copies above 6 MB).
TEST_F(MirrorTest, SignedWritesAcceptedWithIamAuth) {
  Moto a(moto_, {"INITIAL_NO_AUTH_ACTION_COUNT=3"}), b(moto_, {"INITIAL_NO_AUTH_ACTION_COUNT=3"});
  ASSERT_TRUE(a.up() && b.up());
  const IamUser ua = CreateUser(a.port(), "mirror", kAllowAll);
  const IamUser ub = CreateUser(b.port(), "mirror", kAllowAll);
  ASSERT_FALSE(ua.access_key.empty() || ub.access_key.empty());
  const storage::StoreOptions small{7, int64_t{6} << 20};
  auto src = Open(ua.Url(a.port()), "src", small);
  auto copy = Open(ua.Url(a.port()), "copy", small);
  auto prod = Open(ub.Url(b.port()), "prod", small);
  ASSERT_TRUE(src && copy && prod);
  ASSERT_TRUE(src->CreateContainer().ok());
  ASSERT_TRUE(copy->CreateContainer().ok());
  ASSERT_TRUE(prod->CreateContainer().ok());
  auto files = PlainTree(dir_ + "/src", 40, 11);
  std::string big(12 << 20, '\0');
  std::mt19937_64 rng(12);
  for (size_t i = 0; i + 8 <= big.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&big[i], &v, 8);
  }
  files["video/big.bin"] = big;
  WriteAll(dir_ + "/src/video/big.bin", big);
  storage::MirrorOptions options;
  options.part_size = int64_t{5} << 20;  // big.bin: a 3-part multipart upload.
  auto local = OpenDir(dir_ + "/src");
  auto run = [&](storage::ObjectStore& from, storage::ObjectStore& to) {
    absl::StatusOr<storage::MirrorResult> r = storage::Mirror(from, to, options);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      for (const auto& f : r->failed) ADD_FAILURE() << f.key << ": " << f.detail;
    }
    return r.ok() ? *r : storage::MirrorResult{};
  };
  storage::MirrorResult up = run(*local, *src);
  EXPECT_EQ(up.copied.size(), 41u);
  // One endpoint: CopyObject, and UploadPartCopy in two parts for big.bin.
  storage::MirrorResult server = run(*src, *copy);
  EXPECT_EQ(server.copied.size(), 41u);
  EXPECT_EQ(server.server_side_copies, 41);
  // Two endpoints: streamed, listed 7 keys a page.
  storage::MirrorResult across = run(*src, *prod);
  EXPECT_EQ(across.copied.size(), 41u);
  EXPECT_EQ(across.server_side_copies, 0);
  auto back = OpenDir(dir_ + "/back");
  ASSERT_TRUE(back->CreateContainer().ok());
  run(*prod, *back);
  EXPECT_EQ(Tree(dir_ + "/back"), files);
  auto back2 = OpenDir(dir_ + "/back2");
  ASSERT_TRUE(back2->CreateContainer().ok());
  run(*copy, *back2);
  EXPECT_EQ(Tree(dir_ + "/back2"), files);
  // A re-run copies nothing.
  storage::MirrorResult again = run(*src, *prod);
  EXPECT_EQ(again.copied.size(), 0u);
  EXPECT_EQ(again.same.size(), 41u);
  // Never overwritten: other content under a present key is left alone.
  WriteAll(dir_ + "/other/media/1/img-1.bin", "development's other version");
  WriteAll(dir_ + "/other/new.txt", "new");
  auto other = OpenDir(dir_ + "/other");
  storage::MirrorResult differ = run(*other, *prod);
  EXPECT_EQ(differ.copied.size(), 1u);
  ASSERT_EQ(differ.differing.size(), 1u);
  std::string kept;
  ASSERT_TRUE(prod->Read("media/1/img-1.bin", 0, files["media/1/img-1.bin"].size(), &kept).ok());
  EXPECT_EQ(kept, files["media/1/img-1.bin"]);
}

// Through the binary, with moto checking signatures: a key that may read
// but not write is found by the probe before anything is copied ("write
// refused", exit 2, not blamed on the credentials, nothing left behind);
// a wrong secret is one clear line; the reader still downloads.
TEST_F(MirrorTest, RefusedWritesAndWrongSecretWithIamAuth) {
  Moto a(moto_, {"INITIAL_NO_AUTH_ACTION_COUNT=6"});
  ASSERT_TRUE(a.up());
  const IamUser admin = CreateUser(a.port(), "admin", kAllowAll);
  const IamUser reader = CreateUser(a.port(), "reader", kReadOnly);
  ASSERT_FALSE(admin.access_key.empty() || reader.access_key.empty());
  auto bucket = Open(admin.Url(a.port()), "ro-media");
  ASSERT_TRUE(bucket && bucket->CreateContainer().ok());
  WriteAll(dir_ + "/seed/present.txt", "present");
  CommandResult seeded = Mirror({dir_ + "/seed", "adm/ro-media"}, {admin.Host("adm", a.port())});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  PlainTree(dir_ + "/src", 20, 3);

  CommandResult refused = Mirror({dir_ + "/src", "rd/ro-media"}, {reader.Host("rd", a.port())});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "mirror: write refused: rd/ro-media at http://127.0.0.1:"))
      << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "AccessDenied")) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "listing with the same credentials worked"))
      << refused.err;
  EXPECT_FALSE(absl::StrContains(refused.err, "check the credentials")) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  absl::StatusOr<std::vector<storage::ObjectInfo>> listed = bucket->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);  // Nothing written, the probe's upload aborted.
  EXPECT_EQ((*listed)[0].key, "present.txt");

  CommandResult wrong = Mirror({dir_ + "/src", "w/ro-media"},
                               {admin.Host("w", a.port(), "not-the-secret")});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_TRUE(absl::StrContains(wrong.err, "access denied by w/ro-media")) << wrong.err;
  EXPECT_TRUE(absl::StrContains(wrong.err, "check the credentials of alias \"w\"")) << wrong.err;
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1) << wrong.err;
  EXPECT_FALSE(absl::StrContains(wrong.err, "not-the-secret") ||
               absl::StrContains(wrong.err, admin.secret_key));

  CommandResult down = Mirror({"rd/ro-media", dir_ + "/down"}, {reader.Host("rd", a.port())});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(ReadAll(dir_ + "/down/present.txt"), "present");
}

// `s3://BUCKET/PREFIX` with the AWS environment: keys from the variables,
// or a profile of ~/.aws/credentials with its region and endpoint in
// ~/.aws/config; session tokens sent.
TEST_F(MirrorTest, S3AddressesWithTheAwsEnvironment) {
  Moto a(moto_, {"INITIAL_NO_AUTH_ACTION_COUNT=3"});
  ASSERT_TRUE(a.up());
  const IamUser u = CreateUser(a.port(), "aws", kAllowAll);
  ASSERT_FALSE(u.access_key.empty());
  auto bucket = Open(u.Url(a.port()), "aws-bucket");
  ASSERT_TRUE(bucket && bucket->CreateContainer().ok());
  auto files = PlainTree(dir_ + "/src", 12, 8);
  const std::string endpoint = absl::StrCat("http://127.0.0.1:", a.port());
  CommandResult vars = Mirror({dir_ + "/src", "s3://aws-bucket"},
                              {"AWS_ACCESS_KEY_ID=" + u.access_key,
                               "AWS_SECRET_ACCESS_KEY=" + u.secret_key, "AWS_REGION=eu-west-3",
                               "AWS_ENDPOINT_URL_S3=" + endpoint, "HOME=" + dir_});
  ASSERT_EQ(vars.exit_code, 0) << vars.err;
  EXPECT_TRUE(absl::StrContains(vars.err, "-> s3://aws-bucket: copied 12")) << vars.err;
  WriteAll(dir_ + "/.aws/credentials",
           absl::StrCat("[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n\n"
                        "[media]\naws_access_key_id = ", u.access_key,
                        "\naws_secret_access_key = ", u.secret_key, "\n"));
  WriteAll(dir_ + "/.aws/config", absl::StrCat("[profile media]\nregion = ap-south-1\n"
                                               "endpoint_url = ", endpoint, "\n"));
  CommandResult profile = Mirror({"s3://aws-bucket", dir_ + "/back"},
                                 {"HOME=" + dir_, "AWS_PROFILE=media"});
  ASSERT_EQ(profile.exit_code, 0) << profile.err;
  EXPECT_EQ(Tree(dir_ + "/back"), files);
  // The default profile's keys are refused, named as such.
  CommandResult bad = Mirror({"s3://aws-bucket", dir_ + "/nope"},
                             {"HOME=" + dir_, "AWS_ENDPOINT_URL=" + endpoint});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "check the credentials of profile \"default\""))
      << bad.err;
  CommandResult none = Mirror({"s3://aws-bucket", dir_ + "/nope"}, {"HOME=/nonexistent"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_TRUE(absl::StrContains(none.err, "no AWS credentials")) << none.err;
  // A session token goes with every request: moto refuses a made-up one.
  CommandResult token = Mirror({"s3://aws-bucket", dir_ + "/nope"},
                               {"AWS_ACCESS_KEY_ID=" + u.access_key,
                                "AWS_SECRET_ACCESS_KEY=" + u.secret_key,
                                "AWS_SESSION_TOKEN=made-up", "AWS_ENDPOINT_URL=" + endpoint});
  EXPECT_EQ(token.exit_code, 2) << token.err;
}

// https on loopback: moto_server serves TLS with a certificate for
// 127.0.0.1 from a CA this test makes; AWS_CA_BUNDLE names the CA. Without
// it the server is not trusted: one line, exit 2.
TEST_F(MirrorTest, TlsWithAPrivateCa) {
  const std::string make_certs = absl::StrCat(
      "cd ", dir_, " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
      "-days 1 -subj /CN=pgmerge-test-ca 2>/dev/null && openssl req -newkey rsa:2048 -nodes "
      "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null && "
      "printf 'subjectAltName=IP:127.0.0.1\n' > ext && openssl x509 -req -in srv.csr -CA ca.pem "
      "-CAkey ca.key -CAcreateserial -out srv.pem -days 1 -extfile ext 2>/dev/null");
  ASSERT_EQ(std::system(make_certs.c_str()), 0);
  Moto a(moto_, {}, {"-c", dir_ + "/srv.pem", "-k", dir_ + "/srv.key"});
  ASSERT_TRUE(a.up());
  const std::string url = absl::StrCat("https://127.0.0.1:", a.port());
  ASSERT_EQ(std::system(absl::StrCat("curl -sf --cacert ", dir_, "/ca.pem --aws-sigv4 "
                                     "aws:amz:us-east-1:s3 --user K:S -X PUT ", url,
                                     "/tls-media >/dev/null").c_str()),
            0);
  auto files = MakeTree(dir_ + "/src", 20, 9);
  const std::string host = "MC_HOST_t=https://TESTKEY:TESTSECRET@127.0.0.1:" +
                           std::to_string(a.port());
  CommandResult untrusted = Mirror({dir_ + "/src", "t/tls-media"}, {host});
  EXPECT_EQ(untrusted.exit_code, 2) << untrusted.err;
  EXPECT_TRUE(absl::StrContains(untrusted.err, "cannot reach " + url)) << untrusted.err;
  EXPECT_EQ(std::count(untrusted.err.begin(), untrusted.err.end(), '\n'), 1) << untrusted.err;
  const std::string ca = "AWS_CA_BUNDLE=" + dir_ + "/ca.pem";
  CommandResult up = Mirror({dir_ + "/src", "t/tls-media"}, {host, ca});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  CommandResult down = Mirror({"t/tls-media", dir_ + "/back"}, {host, ca});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Tree(dir_ + "/back"), files);
}

// Virtual-host style (bucket.host, as on AWS): mc's `"path": "off"` on a
// made-up host the test resolves to 127.0.0.1; moto reads the bucket from
// the Host header, which is signed as sent. With IAM auth on.
TEST_F(MirrorTest, VirtualHostStyleSigned) {
  Moto a(moto_, {"INITIAL_NO_AUTH_ACTION_COUNT=3"});
  ASSERT_TRUE(a.up());
  const IamUser u = CreateUser(a.port(), "vhost", kAllowAll);
  ASSERT_FALSE(u.access_key.empty());
  const std::string host = "s3.pgmerge.test";
  WriteAll(dir_ + "/mc/config.json",
           absl::StrCat(R"({"version": "10", "aliases": {"vh": {"url": "http://)", host, ":",
                        a.port(), R"(", "accessKey": ")", u.access_key, R"(", "secretKey": ")",
                        u.secret_key, R"(", "api": "s3v4", "path": "off"}}})"));
  absl::StatusOr<storage::Location> loc =
      storage::ParseLocation("vh/vh-media", {}, dir_ + "/mc/config.json");
  ASSERT_TRUE(loc.ok()) << loc.status();
  EXPECT_FALSE(loc->path_style);
  storage::StoreOptions options;
  options.resolve = {absl::StrCat("vh-media.", host, ":", a.port(), ":127.0.0.1"),
                     absl::StrCat(host, ":", a.port(), ":127.0.0.1")};
  absl::StatusOr<std::unique_ptr<storage::ObjectStore>> store = storage::OpenStore(*loc, options);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateContainer().ok());
  auto files = PlainTree(dir_ + "/src", 15, 4);
  auto local = OpenDir(dir_ + "/src");
  storage::MirrorOptions mo;
  absl::StatusOr<storage::MirrorResult> up = storage::Mirror(*local, **store, mo);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->copied.size(), 15u);
  EXPECT_TRUE(up->failed.empty());
  auto back = OpenDir(dir_ + "/back");
  ASSERT_TRUE(back->CreateContainer().ok());
  absl::StatusOr<storage::MirrorResult> down = storage::Mirror(**store, *back, mo);
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(Tree(dir_ + "/back"), files);
  // The requests went to the bucket's own host name.
  std::string log = ReadAll(absl::StrCat("/tmp/pgmerge-moto-", a.port(), ".log"));
  EXPECT_TRUE(absl::StrContains(log, "\"PUT /media/0/img-0.bin HTTP/1.1\" 200")) << log;
}

}  // namespace
}  // namespace pgmerge::testing

namespace pgmerge::testing {
namespace {

// Development's rows that name an object production holds with other
// content: listed, and with --rename-conflicts dev's file is copied under
// a new key and the SQL that points those rows at it runs on development's
// real database.
TEST_F(MirrorTest, DevRowsOnDifferingObjectsAreRenamed) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  const std::string schema =
      "CREATE TABLE posts (id serial PRIMARY KEY, title text, image text);";
  ASSERT_TRUE(pg->CreateDatabase("mirror_prod").ok());
  ASSERT_TRUE(pg->Exec("mirror_prod", schema + "INSERT INTO posts (title, image) VALUES "
                                               "('base', 'img/logo.png'), ('prod', 'uploads/p.jpg')")
                  .ok());
  ASSERT_TRUE(pg->CreateDatabase("mirror_dev").ok());
  ASSERT_TRUE(pg->Exec("mirror_dev",
                       schema + "INSERT INTO posts (title, image) VALUES "
                                "('base', 'img/logo.png'), ('dev''s post', 'img/logo.png'), "
                                "('dev', 'https://cdn.example/media/img/banner.png'), "
                                "('same', 'img/same.png')")
                  .ok());
  ASSERT_TRUE(pg->Dump("mirror_prod", {}, dir_ + "/prod.sql").ok());
  ASSERT_TRUE(pg->Dump("mirror_dev", {}, dir_ + "/dev.sql").ok());
  WriteAll(dir_ + "/dev-media/img/logo.png", "DEV LOGO");
  WriteAll(dir_ + "/dev-media/img/banner.png", "DEV BANNER");
  WriteAll(dir_ + "/dev-media/img/same.png", "SAME");
  WriteAll(dir_ + "/prod-media/img/logo.png", "PROD LOGO");
  WriteAll(dir_ + "/prod-media/img/banner.png", "PROD BANNER!");
  WriteAll(dir_ + "/prod-media/img/same.png", "SAME");
  std::vector<std::string> args = {dir_ + "/dev-media", dir_ + "/prod-media",
                                   "--object-column", "public.posts.image",
                                   "--prod", dir_ + "/prod.sql", "--dev", dir_ + "/dev.sql",
                                   "--report", dir_ + "/r.json"};
  CommandResult listed = Mirror(args, {});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.err, "dev row public.posts (id=2) names img/logo.png, "
                                            "which differs: it would show production's file"))
      << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.err, "(id=3) names img/banner.png")) << listed.err;
  EXPECT_FALSE(absl::StrContains(listed.err, "(id=1)")) << listed.err;  // Production's row.
  EXPECT_FALSE(absl::StrContains(listed.err, "same.png")) << listed.err;  // Same content.

  args.insert(args.end(), {"--rename-conflicts", "--sql", dir_ + "/fix.sql"});
  CommandResult renamed = Mirror(args, {});
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(ReadAll(dir_ + "/prod-media/img/logo.png"), "PROD LOGO");  // Never overwritten.
  ASSERT_TRUE(pg->Exec("mirror_dev", ReadAll(dir_ + "/fix.sql")).ok());
  absl::StatusOr<Rows> rows = pg->Query("mirror_dev", "SELECT id, image FROM posts ORDER BY id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(*(*rows)[0][1], "img/logo.png");
  EXPECT_EQ(*(*rows)[3][1], "img/same.png");
  const std::string logo = *(*rows)[1][1];
  const std::string banner = *(*rows)[2][1];
  ASSERT_TRUE(absl::StartsWith(logo, "img/logo.dev-") && absl::EndsWith(logo, ".png")) << logo;
  ASSERT_TRUE(absl::StartsWith(banner, "https://cdn.example/media/img/banner.dev-")) << banner;
  // Each dev row now names dev's own file in production's store.
  EXPECT_EQ(ReadAll(dir_ + "/prod-media/" + logo), "DEV LOGO");
  EXPECT_EQ(ReadAll(dir_ + "/prod-media/" + banner.substr(strlen("https://cdn.example/media/"))),
            "DEV BANNER");
  // Dumped again, development has no row left on a differing object.
  ASSERT_TRUE(pg->Dump("mirror_dev", {}, dir_ + "/dev2.sql").ok());
  args[7] = dir_ + "/dev2.sql";
  CommandResult again = Mirror(args, {});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(absl::StrContains(again.err, "dev row")) << again.err;
  ASSERT_TRUE(pg->DropDatabase("mirror_prod").ok());
  ASSERT_TRUE(pg->DropDatabase("mirror_dev").ok());
}

}  // namespace
}  // namespace pgmerge::testing
