// Status helpers shared by every stage. Abseil 20220623 has no public
// RETURN_IF_ERROR, so the project defines its own once, here.
#ifndef PGMERGE_BASE_STATUS_H_
#define PGMERGE_BASE_STATUS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"

#define PGM_CONCAT_INNER_(a, b) a##b
#define PGM_CONCAT_(a, b) PGM_CONCAT_INNER_(a, b)

#define PGM_RETURN_IF_ERROR(expr)               \
  do {                                          \
    ::absl::Status pgm_status_ = (expr);        \
    if (!pgm_status_.ok()) return pgm_status_;  \
  } while (0)

#define PGM_ASSIGN_OR_RETURN(lhs, expr) \
  PGM_ASSIGN_OR_RETURN_IMPL_(PGM_CONCAT_(pgm_statusor_, __LINE__), lhs, expr)
#define PGM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

namespace pgmerge {

// "FILE:LINE: message" as DataLoss: the one shape of every error about input.
inline absl::Status InputError(std::string_view file, int64_t line,
                               std::string_view message) {
  return absl::DataLossError(
      absl::StrCat(AsAbsl(file), ":", line, ": ", AsAbsl(message)));
}

}  // namespace pgmerge

#endif  // PGMERGE_BASE_STATUS_H_
