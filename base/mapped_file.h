// A read-only memory mapping of a whole input file.
#ifndef PGMERGE_BASE_MAPPED_FILE_H_
#define PGMERGE_BASE_MAPPED_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace pgmerge {

// Owns a read-only mapping. Every std::string_view handed out by data() and by
// the readers built on it is valid only while this object lives. Move-only.
// Not thread-safe for Release(); data() may be read from any thread.
class MappedFile {
 public:
  // Maps `path`. "-" means standard input, which is first spooled to an
  // unlinked temporary file so it can be read twice like any other input.
  // `display_name` is what error messages call the file ("-" shows as <stdin>).
  static absl::StatusOr<MappedFile> Open(const std::string& path);
  // Maps what `write` writes: to an unlinked temporary file in $TMPDIR (or
  // /tmp), handed its descriptor. Messages call it `name`.
  static absl::StatusOr<MappedFile> Spool(std::string name,
                                          absl::FunctionRef<absl::Status(int fd)> write);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view data() const { return {data_, size_}; }
  const std::string& name() const { return name_; }

  // Tells the kernel that bytes [begin, end) will not be read again soon,
  // so a pass over an input larger than RAM keeps resident memory flat
  // (the pages are read back from the file if they are needed after all).
  // Only whole pages inside the range are released.
  void Release(size_t begin, size_t end) const;

  // Hints sequential access for a pass from the start.
  void AdviseSequential() const;

 private:
  static absl::StatusOr<MappedFile> Map(int fd, std::string name);
  MappedFile(std::string name, const char* data, size_t size)
      : name_(std::move(name)), data_(data), size_(size) {}

  std::string name_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace pgmerge

#endif  // PGMERGE_BASE_MAPPED_FILE_H_
