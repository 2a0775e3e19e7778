#include "storage/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"

namespace pgmerge::storage {
namespace {

std::string Md5Hex(const unsigned char* digest) {
  std::string out;
  for (int i = 0; i < 16; ++i) absl::StrAppendFormat(&out, "%02x", digest[i]);
  return out;
}

class LocalUpload : public Upload {
 public:
  LocalUpload(std::string final_path, std::string tmp_path, int fd)
      : final_(std::move(final_path)), tmp_(std::move(tmp_path)), fd_(fd) {}
  ~LocalUpload() override { Abort(); }
  absl::Status Write(std::string_view part) override {
    while (!part.empty()) {
      ssize_t n = write(fd_, part.data(), part.size());
      if (n <= 0) return absl::InternalError(absl::StrCat("cannot write ", tmp_));
      part.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    if (fsync(fd_) != 0 || close(fd_) != 0) {
      fd_ = -1;
      return absl::InternalError(absl::StrCat("cannot write ", tmp_));
    }
    fd_ = -1;
    // link() fails if the name exists: a file that appeared meanwhile is
    // never replaced.
    if (link(tmp_.c_str(), final_.c_str()) != 0) {
      int e = errno;
      unlink(tmp_.c_str());
      tmp_.clear();
      if (e == EEXIST) return absl::AlreadyExistsError("the file appeared meanwhile; not replaced");
      return absl::InternalError(absl::StrCat("cannot create ", final_, ": ", strerror(e)));
    }
    unlink(tmp_.c_str());
    tmp_.clear();
    return absl::OkStatus();
  }
  void Abort() override {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    if (!tmp_.empty()) unlink(tmp_.c_str());
    tmp_.clear();
  }

 private:
  std::string final_, tmp_;
  int fd_;
};

class LocalStore : public ObjectStore {
 public:
  explicit LocalStore(Location loc) : loc_(std::move(loc)) {}
  const Location& location() const override { return loc_; }

  absl::StatusOr<std::vector<ObjectInfo>> List() override {
    struct stat st;
    if (stat(loc_.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::NotFoundError(absl::StrCat("directory ", loc_.dir, " does not exist"));
    }
    std::vector<ObjectInfo> out;
    PGM_RETURN_IF_ERROR(Walk("", &out));
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  absl::Status Read(const std::string& key, int64_t offset, int64_t length,
                    std::string* out) override {
    std::string path = Path(key);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    out->resize(static_cast<size_t>(length));
    int64_t done = 0;
    while (done < length) {
      ssize_t n = pread(fd, out->data() + done, static_cast<size_t>(length - done), offset + done);
      if (n <= 0) break;
      done += n;
    }
    close(fd);
    if (done != length) return absl::DataLossError(absl::StrCat(path, " changed while read"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Upload>> BeginWrite(const std::string& key, int64_t,
                                                     int64_t) override {
    // An S3 key is any string: one with "..", "." or empty segments, or a
    // leading '/', would land outside the directory or somewhere else.
    bool safe = !key.empty() && key.front() != '/' && key.find('\0') == std::string::npos;
    for (size_t a = 0; safe && a <= key.size();) {
      size_t b = key.find('/', a);
      if (b == std::string::npos) b = key.size();
      std::string_view seg(key.data() + a, b - a);
      safe = !seg.empty() && seg != "." && seg != "..";
      a = b + 1;
    }
    if (!safe) {
      return absl::InvalidArgumentError(
          "the key is not a safe relative path (\"..\", \".\" or empty parts): not written");
    }
    std::string path = Path(key);
    // Parent directories first; each component must stay inside the root.
    for (size_t p = loc_.dir.size() + 1; (p = path.find('/', p)) != std::string::npos; ++p) {
      std::string parent = path.substr(0, p);
      if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::InternalError(absl::StrCat("cannot create ", parent));
      }
    }
    static std::atomic<uint64_t> counter{0};
    std::string tmp = absl::StrCat(path, ".pgmerge-partial-", getpid(), "-", counter++);
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", tmp));
    return std::unique_ptr<Upload>(new LocalUpload(path, tmp, fd));
  }

  absl::Status CopyFrom(ObjectStore&, const ObjectInfo&, const std::string&) override {
    return absl::UnimplementedError("local");
  }

  absl::StatusOr<std::string> ContentMd5(const ObjectInfo& object) override {
    std::string path = Path(object.key);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
    std::string buf(1 << 20, '\0');
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0) EVP_DigestUpdate(ctx, buf.data(), n);
    close(fd);
    unsigned char digest[16];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    return Md5Hex(digest);
  }

  absl::Status CreateContainer() override {
    for (size_t p = 1; (p = loc_.dir.find('/', p)) != std::string::npos; ++p) {
      mkdir(loc_.dir.substr(0, p).c_str(), 0755);  // Parents; errors show below.
    }
    if (mkdir(loc_.dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("cannot create ", loc_.dir));
    }
    return absl::OkStatus();
  }

 private:
  std::string Path(const std::string& key) const { return absl::StrCat(loc_.dir, "/", key); }

  absl::Status Walk(const std::string& rel, std::vector<ObjectInfo>* out) {
    std::string dir = rel.empty() ? loc_.dir : absl::StrCat(loc_.dir, "/", rel);
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return absl::InternalError(absl::StrCat("cannot read ", dir));
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (name.find(".pgmerge-partial-") != std::string::npos) continue;  // Ours, unfinished.
      names.push_back(name);
    }
    closedir(d);
    for (const std::string& name : names) {
      std::string key = rel.empty() ? name : absl::StrCat(rel, "/", name);
      struct stat st;
      if (lstat(absl::StrCat(loc_.dir, "/", key).c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        PGM_RETURN_IF_ERROR(Walk(key, out));
      } else if (S_ISREG(st.st_mode)) {
        out->push_back({key, static_cast<int64_t>(st.st_size), ""});
      }
    }
    return absl::OkStatus();
  }

  Location loc_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewLocalStore(const Location& location) {
  return std::make_unique<LocalStore>(location);
}

}  // namespace pgmerge::storage
