#include "storage/mirror.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"

namespace pgmerge::storage {
namespace {

// The MD5 of an object's content: the store's (an S3 single-part ETag, a
// hashed local file) or, for a multipart ETag, read through in parts.
absl::StatusOr<std::string> Md5Of(ObjectStore& store, const ObjectInfo& o, int64_t part_size) {
  PGM_ASSIGN_OR_RETURN(std::string md5, store.ContentMd5(o));
  if (!md5.empty()) return md5;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  std::string buf;
  for (int64_t off = 0; off < o.size; off += part_size) {
    absl::Status s = store.Read(o.key, off, std::min(part_size, o.size - off), &buf);
    if (!s.ok()) {
      EVP_MD_CTX_free(ctx);
      return s;
    }
    EVP_DigestUpdate(ctx, buf.data(), buf.size());
  }
  unsigned char digest[16];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  std::string out;
  for (unsigned char c : digest) absl::StrAppendFormat(&out, "%02x", c);
  return out;
}

// Same content: same size and same MD5 (same ETag strings count too).
absl::StatusOr<bool> SameContent(ObjectStore& src, const ObjectInfo& a, ObjectStore& dst,
                                 const ObjectInfo& b, int64_t part_size, std::string* detail) {
  if (a.size != b.size) {
    *detail = absl::StrCat("size ", a.size, " vs ", b.size);
    return false;
  }
  if (!a.etag.empty() && a.etag == b.etag) return true;
  PGM_ASSIGN_OR_RETURN(std::string ma, Md5Of(src, a, part_size));
  PGM_ASSIGN_OR_RETURN(std::string mb, Md5Of(dst, b, part_size));
  if (ma != mb) *detail = absl::StrCat("same size, MD5 ", ma, " vs ", mb);
  return ma == mb;
}

}  // namespace

absl::Status CopyObject(ObjectStore& src, ObjectStore& dst, const ObjectInfo& o,
                        const std::string& dst_key, int64_t part_size, bool* server_side,
                        const std::function<void(int64_t)>& on_bytes,
                        const std::function<bool()>& interrupted) {
  absl::Status copied = dst.CopyFrom(src, o, dst_key);
  if (copied.ok()) {
    *server_side = true;
    on_bytes(o.size);
    return absl::OkStatus();
  }
  if (!absl::IsUnimplemented(copied)) return copied;
  PGM_ASSIGN_OR_RETURN(std::unique_ptr<Upload> up, dst.BeginWrite(dst_key, o.size, part_size));
  // Pieces as they arrive, gathered into parts: one part is the memory a
  // transfer holds.
  std::string part;
  part.reserve(static_cast<size_t>(std::min(part_size, std::max<int64_t>(o.size, 1))));
  absl::Status streamed = src.Stream(o, part_size, [&](std::string_view piece) -> absl::Status {
    if (interrupted && interrupted()) return absl::CancelledError("interrupted");
    while (!piece.empty()) {
      size_t take = std::min(piece.size(), static_cast<size_t>(part_size) - part.size());
      part.append(piece.substr(0, take));
      piece.remove_prefix(take);
      if (static_cast<int64_t>(part.size()) == part_size) {
        PGM_RETURN_IF_ERROR(up->Write(part));
        on_bytes(static_cast<int64_t>(part.size()));
        part.clear();
      }
    }
    return absl::OkStatus();
  });
  if (streamed.ok() && (!part.empty() || o.size == 0)) {
    streamed = up->Write(part);
    on_bytes(static_cast<int64_t>(part.size()));
  }
  if (!streamed.ok()) {
    up->Abort();
    return streamed;
  }
  absl::Status s = up->Finish();
  if (!s.ok()) up->Abort();
  return s;
}


absl::StatusOr<MirrorResult> Mirror(ObjectStore& source, ObjectStore& destination,
                                    const MirrorOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  MirrorResult result;
  result.source = source.location().Display();
  result.destination = destination.location().Display();
  result.dry_run = options.dry_run;
  PGM_ASSIGN_OR_RETURN(std::vector<ObjectInfo> src, source.List());
  absl::StatusOr<std::vector<ObjectInfo>> listed = destination.List();
  if (!listed.ok() && absl::IsNotFound(listed.status()) && destination.location().local &&
      !options.dry_run) {
    // A local destination is created, as mc does; a bucket never is.
    PGM_RETURN_IF_ERROR(destination.CreateContainer());
    listed = destination.List();
  }
  if (!listed.ok() && absl::IsNotFound(listed.status()) && destination.location().local) {
    listed = std::vector<ObjectInfo>();  // Dry run: an empty directory to be.
  }
  if (!listed.ok()) return listed.status();
  std::vector<ObjectInfo> dst = std::move(*listed);

  // Both lists are sorted: one merge walk classifies every key.
  std::vector<ObjectInfo> missing;
  size_t j = 0;
  for (const ObjectInfo& o : src) {
    while (j < dst.size() && dst[j].key < o.key) ++j;
    if (j < dst.size() && dst[j].key == o.key) {
      ObjectOutcome out{o.key, o.size, dst[j].size, o.etag, dst[j].etag, ""};
      PGM_ASSIGN_OR_RETURN(bool same, SameContent(source, o, destination, dst[j],
                                                   options.part_size, &out.detail));
      (same ? result.same : result.differing).push_back(std::move(out));
    } else {
      missing.push_back(o);
    }
  }
  MirrorProgress progress;
  progress.objects_total = static_cast<int64_t>(missing.size());
  for (const ObjectInfo& o : missing) progress.bytes_total += o.size;
  if (options.dry_run) {
    for (const ObjectInfo& o : missing) result.copied.push_back({o.key, o.size, -1, o.etag, "", ""});
    return result;
  }
  // A destination that refuses writes (a read-only key, a signature the
  // server computes otherwise) is found before the first object, not
  // after every object failed.
  if (!missing.empty()) PGM_RETURN_IF_ERROR(destination.ProbeWrite());

  std::mutex mu;
  std::atomic<size_t> next{0};
  std::vector<absl::Status> status(missing.size());
  auto report = [&](int64_t bytes, int64_t objects) {
    std::lock_guard<std::mutex> lock(mu);
    progress.bytes_done += bytes;
    progress.objects_done += objects;
    if (options.progress) options.progress(progress);
  };
  std::atomic<int64_t> server_side{0};
  // An endpoint that stays unreachable through a transfer's retries is
  // down, and a refused write will be refused again: the objects after it
  // are not tried (a re-run copies them).
  std::atomic<bool> down{false};
  std::string down_reason;
  auto worker = [&]() {
    for (size_t i; (i = next++) < missing.size();) {
      if (down) {
        std::lock_guard<std::mutex> lock(mu);
        status[i] = absl::UnavailableError(absl::StrCat("not tried: ", down_reason));
        continue;
      }
      if (options.interrupted && options.interrupted()) {
        status[i] = absl::CancelledError("not tried: interrupted");
        continue;
      }
      bool ss = false;
      status[i] = CopyObject(source, destination, missing[i], missing[i].key, options.part_size,
                             &ss, [&](int64_t n) { report(n, 0); }, options.interrupted);
      if (absl::IsUnavailable(status[i]) || absl::IsPermissionDenied(status[i])) {
        std::lock_guard<std::mutex> lock(mu);
        if (!down) down_reason = std::string(status[i].message());
        down = true;
      }
      if (ss) ++server_side;
      report(0, 1);
    }
  };
  std::vector<std::thread> threads;
  const int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(missing.size())));
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();

  for (size_t i = 0; i < missing.size(); ++i) {
    const ObjectInfo& o = missing[i];
    ObjectOutcome out{o.key, o.size, -1, o.etag, "", ""};
    if (status[i].ok()) {
      result.bytes_copied += o.size;
      result.copied.push_back(std::move(out));
    } else if (absl::IsAlreadyExists(status[i])) {
      out.detail = std::string(status[i].message());
      result.differing.push_back(std::move(out));
    } else {
      out.detail = std::string(status[i].message());
      result.failed.push_back(std::move(out));
    }
  }
  std::sort(result.differing.begin(), result.differing.end(),
            [](const ObjectOutcome& a, const ObjectOutcome& b) { return a.key < b.key; });
  result.server_side_copies = server_side;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string MirrorReportJson(const MirrorResult& r) {
  using Json = nlohmann::ordered_json;
  auto list = [](const std::vector<ObjectOutcome>& v, bool with_dst) {
    Json a = Json::array();
    for (const ObjectOutcome& o : v) {
      Json j = {{"key", o.key}, {"size", o.size}, {"etag", o.etag}};
      if (with_dst) {
        j["dst_size"] = o.dst_size;
        j["dst_etag"] = o.dst_etag;
      }
      if (!o.detail.empty()) j["detail"] = o.detail;
      a.push_back(std::move(j));
    }
    return a;
  };
  Json root;
  root["format"] = "pgmerge-mirror-report";
  root["version"] = 1;
  root["source"] = r.source;
  root["destination"] = r.destination;
  root["dry_run"] = r.dry_run;
  root["totals"] = {{"copied", r.copied.size()},
                    {"bytes_copied", r.bytes_copied},
                    {"server_side_copies", r.server_side_copies},
                    {"same", r.same.size()},
                    {"differing", r.differing.size()},
                    {"failed", r.failed.size()}};
  root[r.dry_run ? "to_copy" : "copied"] = list(r.copied, false);
  root["differing"] = list(r.differing, true);
  root["failed"] = list(r.failed, false);
  root["same"] = r.same.size();
  Json refs = Json::array();
  for (const ReferencedDifference& d : r.references) {
    Json j = {{"object", d.object}, {"table", d.table}, {"column", d.column}, {"row", d.row}};
    if (!d.renamed_to.empty()) j["renamed_to"] = d.renamed_to;
    refs.push_back(std::move(j));
  }
  root["dev_rows_on_differing_objects"] = refs;
  return root.dump(2) + "\n";
}

}  // namespace pgmerge::storage
