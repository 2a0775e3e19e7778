// The key of the \restrict / \unrestrict pair around pgmerge's output
// (CVE-2025-8714): derived from the inputs, so the same inputs give the same
// output, and such that no input can make psql see it in a line of its own.
//
// psql in restricted mode runs no meta-command but \unrestrict KEY. The only
// input text psql could lex as one is outside COPY rows (statements, which
// are hashed into the key: an input holding the key of the file it is in is
// a fixed point of SHA-256), or COPY rows pushed out of their block by a
// bug. Rows are only searched for "\unrestrict" (the word in any case):
// psql takes a command's name as the bytes from its backslash up to white
// space or the next backslash, and pgmerge writes row bytes only as fields
// of rows, so rows without it cannot hold the command, whatever they are
// joined with. Where any input's rows hold it, the key is made of every
// input hashed whole instead. Hashing rows cost a quarter of the merge's
// CPU; the search runs at six times SHA-256's speed.
#ifndef PGMERGE_PARSER_RESTRICT_KEY_H_
#define PGMERGE_PARSER_RESTRICT_KEY_H_

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmerge::parser {

struct InputDigest {
  uint64_t size = 0;
  // Of the input, COPY rows searched (each block's as its length) or not.
  std::array<unsigned char, 32> sha256{};
  uint64_t row_blocks = 0;       // COPY blocks whose rows were searched.
  bool rows_unrestrict = false;  // The search found \unrestrict.
};

// An input's digest taken in steps, as a reader moves through it: the
// index pass takes each stretch it read while it is still in the cache, so
// the input is read once for both.
class InputDigester {
 public:
  explicit InputDigester(std::string_view input);
  ~InputDigester();
  InputDigester(const InputDigester&) = delete;
  InputDigester& operator=(const InputDigester&) = delete;
  // Takes the input from done() up to `end` (no further than its size):
  // hashed, or between BeginRows and EndRows searched.
  void Through(size_t end);
  // A COPY block's rows: from `begin`, after its header line, to `end`,
  // where its \. line starts. Without these calls every byte is hashed.
  void BeginRows(size_t begin);
  void EndRows(size_t end);
  size_t done() const { return done_; }
  // Takes the rest.
  InputDigest Finish();

 private:
  std::string_view input_;
  size_t done_ = 0;
  size_t rows_begin_ = 0;
  bool in_rows_ = false;
  bool found_ = false;
  uint64_t blocks_ = 0;
  EVP_MD_CTX* ctx_;
};

// The key for the inputs digested in this order: 43 letters and digits.
// None where any digest's rows held \unrestrict: the caller then takes
// every input whole (an InputDigester given no rows) and asks again.
std::optional<std::string> RestrictKeyOf(const std::vector<InputDigest>& digests);
// Each input hashed whole, then the key.
std::string DeriveRestrictKey(const std::vector<std::string_view>& inputs);

// True where `text` holds a backslash and then the word "unrestrict" in any
// case (exposed for its test).
bool HoldsUnrestrictCommand(std::string_view text);

// True when `key` may follow \restrict: letters and digits only, as pg_dump
// requires.
bool IsValidRestrictKey(std::string_view key);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_RESTRICT_KEY_H_
