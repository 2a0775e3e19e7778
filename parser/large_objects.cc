#include "parser/large_objects.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"
#include "parser/dump_reader.h"

namespace pgmerge::parser {
namespace {

// Consumes `word` exactly (pg_dump's spelling).
bool Eat(std::string_view* t, std::string_view word) {
  if (t->substr(0, word.size()) != word) return false;
  t->remove_prefix(word.size());
  return true;
}

// An OID as pg_dump prints it: decimal digits, no sign, fits 32 bits.
bool EatOid(std::string_view* t, uint32_t* oid) {
  size_t n = 0;
  uint64_t v = 0;
  while (n < t->size() && absl::ascii_isdigit((*t)[n]) && n < 11) {
    v = v * 10 + ((*t)[n] - '0');
    ++n;
  }
  if (n == 0 || n > 10 || v > 0xFFFFFFFFu || v == 0 || ((*t)[0] == '0')) {
    return false;
  }
  *oid = static_cast<uint32_t>(v);
  t->remove_prefix(n);
  return true;
}

// "lo_create('OID');" style: the OID in quotes.
bool EatQuotedOid(std::string_view* t, uint32_t* oid) {
  return Eat(t, "'") && EatOid(t, oid) && Eat(t, "'");
}

bool IsUpperWords(std::string_view t) {
  for (char c : t) {
    if (!(absl::ascii_isupper(c) || c == ' ' || c == ',')) return false;
  }
  return !t.empty();
}

// The OID of "... ON LARGE OBJECT OID <tail>": GRANT/REVOKE/SECURITY LABEL.
bool OnLargeObject(std::string_view t, std::string_view tail, uint32_t* oid) {
  size_t on = t.find(" ON LARGE OBJECT ");
  if (on == std::string_view::npos) return false;
  std::string_view rest = t.substr(on + 17);
  return EatOid(&rest, oid) && Eat(&rest, tail);
}

struct Parsed {
  Parsed() = default;
  Parsed(LargeObjectStatement k, uint32_t o = 0, std::string_view h = {})
      : kind(k), oid(o), hex(h) {}
  LargeObjectStatement kind = LargeObjectStatement::kNone;
  uint32_t oid = 0;
  std::string_view hex;
};

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return s.size() % 2 == 0;
}

Parsed Parse(std::string_view sql) {
  Parsed p;
  std::string_view t = sql;
  using K = LargeObjectStatement;
  if (sql == "BEGIN;") return {K::kBegin};
  if (sql == "COMMIT;") return {K::kCommit};
  if (Eat(&t, "SELECT pg_catalog.lo_create(")) {
    if (EatQuotedOid(&t, &p.oid) && t == ");") return {K::kCreate, p.oid};
    return {K::kOther};
  }
  if (Eat(&t, "SELECT pg_catalog.lo_open(")) {
    if (EatQuotedOid(&t, &p.oid) && t == ", 131072);") return {K::kOpen, p.oid};
    return {K::kOther};
  }
  if (Eat(&t, "SELECT pg_catalog.lo_unlink(")) {
    if (EatQuotedOid(&t, &p.oid) && t == ");") return {K::kUnlink, p.oid};
    return {K::kOther};
  }
  if (Eat(&t, "SELECT pg_catalog.lo_close(")) {
    return {t == "0);" ? K::kClose : K::kOther};
  }
  if (Eat(&t, "SELECT pg_catalog.lowrite(")) {
    // '\x...' with standard_conforming_strings on, E'\\x...' with it off.
    if (Eat(&t, "0, '\\x") || Eat(&t, "0, E'\\\\x")) {
      if (t.size() >= 3 && t.substr(t.size() - 3) == "');") {
        std::string_view hex = t.substr(0, t.size() - 3);
        if (IsHex(hex)) return {K::kWrite, 0, hex};
      }
    }
    return {K::kOther};
  }
  if (Eat(&t, "ALTER LARGE OBJECT ")) {
    if (EatOid(&t, &p.oid) && Eat(&t, " OWNER TO ")) return {K::kMeta, p.oid};
    return {K::kOther};
  }
  if (Eat(&t, "COMMENT ON LARGE OBJECT ")) {
    if (EatOid(&t, &p.oid) && Eat(&t, " IS ")) return {K::kMeta, p.oid};
    return {K::kOther};
  }
  for (std::string_view verb : {"GRANT ", "REVOKE "}) {
    std::string_view g = sql;
    if (!Eat(&g, verb)) continue;
    size_t on = g.find(" ON LARGE OBJECT ");
    if (on == std::string_view::npos) break;  // Not about large objects.
    const bool grant = verb == "GRANT ";
    if (IsUpperWords(g.substr(0, on)) &&
        OnLargeObject(g, grant ? " TO " : " FROM ", &p.oid)) {
      return {K::kMeta, p.oid};
    }
    return {K::kOther};
  }
  if (Eat(&t, "SECURITY LABEL FOR ")) {
    size_t on = t.find(" ON LARGE OBJECT ");
    if (on == std::string_view::npos) return p;
    if (OnLargeObject(t, " IS ", &p.oid)) return {K::kMeta, p.oid};
    return {K::kOther};
  }
  // Other spellings of the same functions and statements, and transaction
  // control: never in a plain pg_dump file outside the forms above.
  static constexpr std::string_view kRefused[] = {
      "SELECT pg_catalog.lo_", "SELECT lo_",          "ALTER LARGE OBJECT",
      "COMMENT ON LARGE OBJECT", "BEGIN",             "COMMIT",
      "END",                    "ROLLBACK",           "ABORT",
      "START TRANSACTION",      "SAVEPOINT",          "RELEASE",
      "PREPARE TRANSACTION",    "COMMIT PREPARED",    "ROLLBACK PREPARED"};
  for (std::string_view r : kRefused) {
    // A statement keyword, not the start of a longer word; lo_ a prefix.
    if (r.back() == '_' ? StartsWithIgnoreCase(sql, r) : StartsWithWord(sql, r)) {
      return {K::kOther};
    }
  }
  return p;
}

std::string Sha256Hex(const std::vector<std::pair<size_t, size_t>>& chunks,
                      std::string_view input, int64_t* size) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  unsigned char buf[4096];
  *size = 0;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (const auto& [offset, length] : chunks) {
    std::string_view hex = input.substr(offset, length);
    size_t n = 0;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      buf[n++] = static_cast<unsigned char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
      if (n == sizeof buf) {
        EVP_DigestUpdate(ctx, buf, n);
        *size += n;
        n = 0;
      }
    }
    EVP_DigestUpdate(ctx, buf, n);
    *size += n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(ctx, digest, &digest_len);
  EVP_MD_CTX_free(ctx);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < digest_len; ++i) {
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 15]);
  }
  return out;
}

}  // namespace

LargeObjectStatement ClassifyLargeObjectStatement(std::string_view sql) {
  return Parse(sql).kind;
}

std::string_view LowriteHex(std::string_view sql) {
  Parsed p = Parse(sql);
  return p.kind == LargeObjectStatement::kWrite ? p.hex : std::string_view();
}

LargeObjectReader::LargeObjectReader(std::string_view input, std::string file_name)
    : input_(input), file_(std::move(file_name)) {}

absl::Status LargeObjectReader::Error(int64_t line, std::string_view what) const {
  return InputError(file_, line, what);
}

LargeObject* LargeObjectReader::Find(uint32_t oid) {
  auto it = position_.find(oid);
  return it == position_.end() ? nullptr : &objects_[it->second];
}

absl::StatusOr<bool> LargeObjectReader::Take(const DumpEvent& ev) {
  using K = LargeObjectStatement;
  Parsed p = Parse(ev.text);
  const int64_t line = ev.line;
  if (p.kind == K::kNone) {
    if (begin_line_ != 0) {
      return Error(line, absl::StrCat("a statement other than lo_open, lowrite and lo_close "
                                      "inside the large objects' data section (BEGIN at "
                                      "line ",
                                      begin_line_, "); pg_dump does not write one there"));
    }
    return false;
  }
  switch (p.kind) {
    case K::kNone:
      break;
    case K::kOther:
      return Error(line, "a large-object or transaction statement in a form pg_dump does not "
                         "write (only lo_create, lo_open, lowrite, lo_close, ALTER LARGE "
                         "OBJECT ... OWNER TO, COMMENT, GRANT/REVOKE and SECURITY LABEL on "
                         "LARGE OBJECT, and the BEGIN/COMMIT around the large objects' "
                         "data are read)");
    case K::kUnlink:
      // The merge writes into an empty database: nothing to unlink.
      if (!objects_.empty() || begin_line_ != 0) {
        return Error(line, "lo_unlink after the dump's large objects are made; pg_dump "
                           "--clean writes it only before them");
      }
      return true;
    case K::kCreate:
    case K::kMeta:
      return TakeDefinition(p.kind == K::kCreate, p.oid, ev);
    case K::kBegin:
      if (begin_line_ != 0) {
        return Error(line, absl::StrCat("BEGIN while line ", begin_line_, "'s is still open"));
      }
      begin_line_ = line;
      return true;
    case K::kCommit:
      return TakeCommit(line);
    case K::kOpen:
      return TakeOpen(p.oid, line);
    case K::kWrite: {
      if (open_ == nullptr) {
        return Error(line, "lowrite with no large object open");
      }
      const size_t at = static_cast<size_t>(p.hex.data() - input_.data());
      open_->chunks.emplace_back(at, p.hex.size());
      return true;
    }
    case K::kClose:
      if (open_ == nullptr) return Error(line, "lo_close with no large object open");
      open_ = nullptr;
      return true;
  }
  return false;
}

absl::StatusOr<bool> LargeObjectReader::TakeDefinition(bool create, uint32_t oid,
                                                       const DumpEvent& ev) {
  const int64_t line = ev.line;
  if (begin_line_ != 0) {
    return Error(line, absl::StrCat("large object ", oid, ": created or altered inside "
                                    "the large objects' data section (BEGIN at line ",
                                    begin_line_, ")"));
  }
  LargeObject* lo = Find(oid);
  if (create) {
    if (lo != nullptr) {
      return Error(line, absl::StrCat("large object ", oid, " is created twice (line ",
                                      lo->line, ")"));
    }
    position_[oid] = objects_.size();
    objects_.push_back({});
    objects_.back().oid = oid;
    objects_.back().line = line;
    has_data_.push_back(false);
    return true;
  }
  if (lo == nullptr) {
    return Error(line, absl::StrCat("large object ", oid,
                                    " is altered before the dump creates it"));
  }
  lo->statements.push_back({ev.offset, ev.text.size(), ev.standard_strings,
                            ev.standard_strings_dependent});
  return true;
}

absl::StatusOr<bool> LargeObjectReader::TakeCommit(int64_t line) {
  if (begin_line_ == 0) {
    return Error(line, "COMMIT without the BEGIN of pg_dump's large objects' data");
  }
  if (open_ != nullptr) {
    return Error(line, absl::StrCat("COMMIT while large object ", open_->oid,
                                    " (lo_open at line ", open_line_, ") is open"));
  }
  begin_line_ = 0;
  return true;
}

absl::StatusOr<bool> LargeObjectReader::TakeOpen(uint32_t oid, int64_t line) {
  if (begin_line_ == 0) {
    return Error(line, "lo_open outside pg_dump's BEGIN/COMMIT of the large objects' data");
  }
  if (open_ != nullptr) {
    return Error(line, absl::StrCat("lo_open while large object ", open_->oid,
                                    " (line ", open_line_, ") is still open"));
  }
  LargeObject* lo = Find(oid);
  if (lo == nullptr) {
    return Error(line, absl::StrCat("large object ", oid,
                                    ": data for a large object the dump does not create"));
  }
  const size_t at = position_[oid];
  if (has_data_[at]) {
    return Error(line, absl::StrCat("large object ", oid, ": its data comes twice"));
  }
  has_data_[at] = true;
  open_ = lo;
  open_line_ = line;
  return true;
}

absl::StatusOr<std::vector<LargeObject>> LargeObjectReader::Finish() {
  if (begin_line_ != 0) {
    return Error(begin_line_, "the large objects' data section has no COMMIT (file truncated?)");
  }
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (!has_data_[i]) {
      // pg_dump writes an lo_open/lo_close pair even for an empty one.
      return Error(objects_[i].line, absl::StrCat("large object ", objects_[i].oid,
                                                  " is created but its data is not in the "
                                                  "dump (dumped without large objects?)"));
    }
    objects_[i].sha256 = Sha256Hex(objects_[i].chunks, input_, &objects_[i].size);
  }
  std::vector<LargeObject> out = std::move(objects_);
  std::sort(out.begin(), out.end(),
            [](const LargeObject& a, const LargeObject& b) { return a.oid < b.oid; });
  objects_.clear();
  position_.clear();
  return out;
}

}  // namespace pgmerge::parser
