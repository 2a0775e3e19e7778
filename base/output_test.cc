#include "base/output.h"

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pgmerge {
namespace {

// Records bytes and marks in the order they arrive.
class Recorder : public OutputSink {
 public:
  void Write(std::string_view bytes) override { log_.append(bytes); }
  void Mark(OutputMark mark) override {
    log_.append("<").append(std::to_string(static_cast<int>(mark))).append(">");
  }
  const std::string& log() const { return log_; }

 private:
  std::string log_;
};

// What `first` and `second` write, in turn, on one thread.
template <typename First, typename Second>
std::string InTurn(First first, Second second) {
  Recorder r;
  OutputBuffer out(&r);
  first(out);
  second(out);
  EXPECT_TRUE(out.Flush().ok());
  return r.log();
}

// The same, `second` on another thread through a DeferredSink of `cap` bytes.
template <typename First, typename Second>
std::string Deferred(First first, Second second, size_t cap) {
  Recorder r;
  OutputBuffer out(&r);
  DeferredSink held(&out, cap);
  std::thread other([&] {
    OutputBuffer out2(&held);
    second(out2);
    EXPECT_TRUE(out2.Flush().ok());
  });
  first(out);
  held.Release();
  other.join();
  held.Finish();
  EXPECT_TRUE(out.Flush().ok());
  return r.log();
}

void Rows(OutputBuffer& out, char c, int n) {
  out.Append("COPY t;\n");
  out.Mark(OutputMark::kCopyHeader);
  for (int i = 0; i < n; ++i) out.Append(std::string(100 + i % 7, c) + "\n");
  out.Mark(OutputMark::kCopyRows);
  out.Append("\\.\n");
  out.Mark(OutputMark::kCopyEnd);
}

TEST(DeferredSinkTest, GivesTheStreamOfOneThreadWritingInTurn) {
  auto first = [](OutputBuffer& out) { Rows(out, 'p', 30000); };
  auto second = [](OutputBuffer& out) { Rows(out, 'd', 30000); };
  const std::string want = InTurn(first, second);
  // Held whole; held past the cap (the second thread waits); nothing held.
  for (size_t cap : {size_t{64} << 20, size_t{1} << 20, size_t{0}}) {
    EXPECT_EQ(Deferred(first, second, cap), want) << "cap " << cap;
  }
}

TEST(DeferredSinkTest, SecondDoneBeforeFirstIsHeldUntilFinish) {
  auto first = [](OutputBuffer& out) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Rows(out, 'p', 10);
  };
  auto second = [](OutputBuffer& out) { Rows(out, 'd', 10); };
  EXPECT_EQ(Deferred(first, second, size_t{1} << 20), InTurn(first, second));
}

TEST(DeferredSinkTest, DiscardDropsWhatTheSecondWrites) {
  Recorder r;
  OutputBuffer out(&r);
  DeferredSink held(&out, 0);  // The writer waits at its first buffer.
  std::thread other([&] {
    OutputBuffer out2(&held);
    Rows(out2, 'd', 10);
    EXPECT_TRUE(out2.Flush().ok());
  });
  out.Append("first\n");
  held.Release(/*discard=*/true);
  other.join();
  held.Finish();
  EXPECT_TRUE(out.Flush().ok());
  EXPECT_EQ(r.log(), "first\n");
}

}  // namespace
}  // namespace pgmerge
