#include "storage/s3_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "storage/sigv4.h"
#include "storage/xml_uri.h"

namespace pgmerge::storage {
namespace {

using internal::Tag;
using internal::Tags;
using internal::Unquote;
using internal::UriEncode;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string etag;
};

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  if (line.size() > 5 && absl::EqualsIgnoreCase(absl::string_view(line.data(), 5), "etag:")) {
    std::string v(line.substr(5));
    static_cast<HttpResponse*>(user)->etag = Unquote(Str(absl::StripAsciiWhitespace(v)));
  }
  return size * n;
}

struct BodySource {
  std::string_view data;
  size_t pos = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* user) {
  BodySource* src = static_cast<BodySource*>(user);
  size_t take = std::min(size * n, src->data.size() - src->pos);
  std::memcpy(buf, src->data.data() + src->pos, take);
  src->pos += take;
  return take;
}

class S3Store;

class S3Upload : public Upload {
 public:
  S3Upload(S3Store* store, std::string key, int64_t size, int64_t part_size)
      : store_(store), key_(std::move(key)), size_(size), part_size_(part_size) {}
  absl::Status Write(std::string_view part) override;
  absl::Status Finish() override;
  void Abort() override;

 private:
  S3Store* store_;
  std::string key_;
  int64_t size_, part_size_;
  std::string single_;     // A one-part object, PUT whole at Finish.
  std::string upload_id_;  // Multipart.
  std::vector<std::string> etags_;
};

class S3Store : public ObjectStore {
 public:
  explicit S3Store(Location loc) : loc_(std::move(loc)) {
    static CurlGlobal global;
    (void)global;
  }

  const Location& location() const override { return loc_; }

  // Where a request for `key` goes: the URL, and the Host header and
  // path exactly as they are sent (and signed).
  struct Target {
    std::string url, host, path;
  };
  Target TargetOf(const std::string& key, const std::string& query) const {
    const size_t p = loc_.endpoint.find("://");
    const std::string scheme = loc_.endpoint.substr(0, p);
    Target t;
    t.host = loc_.endpoint.substr(p + 3);
    std::string object = key.empty() ? "" : UriEncode(loc_.prefix + key, true);
    if (loc_.path_style) {
      t.path = absl::StrCat("/", loc_.bucket, "/", object);
    } else {
      t.host = absl::StrCat(loc_.bucket, ".", t.host);
      t.path = absl::StrCat("/", object);
    }
    t.url = absl::StrCat(scheme, "://", t.host, t.path, query.empty() ? "" : "?", query);
    return t;
  }

  // A handle for one request, signed here: `headers` ("Name: value") plus
  // host, content-length for a body, x-amz-date, x-amz-content-sha256 and
  // the session token are signed, and exactly those are sent (libcurl's own
  // Accept, Expect and form Content-Type are switched off). `*list` holds
  // them until the handle is done; the caller frees it.
  CURL* NewHandle(const std::string& method, const std::string& key, const std::string& query,
                  const std::vector<std::string>& headers, std::string_view body,
                  curl_slist** list) const {
    const Target t = TargetOf(key, query);
    SignableRequest r;
    r.method = method;
    r.path = t.path;
    r.query = query;
    r.headers.emplace_back("Host", t.host);
    if (method == "PUT" || method == "POST") {
      r.headers.emplace_back("Content-Length", absl::StrCat(body.size()));
    }
    bool content_type = false;
    for (const std::string& h : headers) {
      size_t colon = h.find(':');
      std::string name = h.substr(0, colon);
      content_type = content_type || absl::EqualsIgnoreCase(name, "content-type");
      r.headers.emplace_back(
          name, Str(absl::StripAsciiWhitespace(absl::string_view(h).substr(colon + 1))));
    }
    // Every body is in memory (one part at most): its hash costs little
    // and lets the server check it.
    r.payload_hash = Sha256Hex(body);
    Sign(&r, {loc_.access_key, loc_.secret_key, loc_.session_token}, loc_.region, "s3",
         AmzDate(std::chrono::system_clock::now()));
    curl_slist* hs = nullptr;
    for (const auto& [name, value] : r.headers) {
      hs = curl_slist_append(hs, absl::StrCat(name, ": ", value).c_str());
    }
    hs = curl_slist_append(hs, "Accept:");
    hs = curl_slist_append(hs, "Expect:");
    if (!content_type) hs = curl_slist_append(hs, "Content-Type:");
    *list = hs;
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (!loc_.ca_bundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, loc_.ca_bundle.c_str());
    if (resolve_ != nullptr) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    // Keys are literal: "a/../b" is its own object, not "b".
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    // A stalled transfer (under 1 KB/s for 60 s) is a failure to retry.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    return c;
  }

  // One request with retries (5xx, 429, network errors) and backoff.
  absl::StatusOr<HttpResponse> Request(const std::string& method, const std::string& key,
                                       const std::string& query,
                                       const std::vector<std::string>& headers,
                                       std::string_view body = {}, bool has_body = false,
                                       std::string* sink = nullptr) {
    absl::Status last;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      if (attempt > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150 << attempt));
      }
      HttpResponse r;
      std::string* out = sink != nullptr ? sink : &r.body;
      out->clear();
      struct curl_slist* hs = nullptr;
      CURL* c = NewHandle(method, key, query, headers, body, &hs);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
      curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
      curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
      BodySource src{body, 0};
      if (method == "PUT") {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
      } else if (method == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      } else if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      } else if (method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
      }
      (void)has_body;
      CURLcode rc = curl_easy_perform(c);
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
      curl_slist_free_all(hs);
      curl_easy_cleanup(c);
      if (rc != CURLE_OK) {
        last = absl::UnavailableError(
            absl::StrCat("cannot reach ", loc_.endpoint, ": ", curl_easy_strerror(rc)));
        continue;
      }
      if (r.status >= 500 || r.status == 429) {
        last = absl::UnavailableError(absl::StrCat(loc_.endpoint, " answered ", r.status, " ",
                                                   Tag(*out, "Code")));
        continue;
      }
      if (sink != nullptr && r.status >= 300) r.body = *out;
      return r;
    }
    return last;
  }

  // An S3 error response as a Status naming what the user can fix.
  absl::Status ErrorOf(const HttpResponse& r, const std::string& what) const {
    std::string code = Tag(r.body, "Code");
    std::string where = absl::StrCat(loc_.Display(), " at ", loc_.endpoint);
    if (code == "NoSuchBucket" || (r.status == 404 && what == "list")) {
      return absl::NotFoundError(absl::StrCat("bucket \"", loc_.bucket, "\" does not exist at ",
                                              loc_.endpoint));
    }
    const bool read = what == "list" || absl::StartsWith(what, "GET ");
    if ((r.status == 401 || r.status == 403) && !read) {
      // Reads were accepted before any write is tried (the listing, the
      // probe): the credentials are fine, the write is not.
      return absl::PermissionDeniedError(absl::StrCat(
          "write refused: ", where, " answered ", r.status, " ",
          code.empty() ? "" : code, " to ", what));
    }
    if (r.status == 401 || r.status == 403) {
      return absl::PermissionDeniedError(absl::StrCat(
          "access denied by ", where, " (", code.empty() ? absl::StrCat(r.status) : code,
          "): check the credentials of ", loc_.credential_source));
    }
    if (r.status == 412) {
      return absl::AlreadyExistsError("the object appeared meanwhile; not replaced");
    }
    return absl::InternalError(absl::StrCat(what, " failed at ", where, ": HTTP ", r.status,
                                            code.empty() ? "" : " ", code));
  }

  // A multipart upload started and aborted under the prefix: the write
  // path (signature and permission) proven, nothing left behind.
  absl::Status ProbeWrite() override {
    const std::string key = ".pgmerge-write-probe";
    PGM_ASSIGN_OR_RETURN(HttpResponse r, Request("POST", key, "uploads=", {}));
    if (r.status != 200) {
      absl::Status s = ErrorOf(r, "a test write (a multipart upload started, then aborted)");
      if (!absl::IsPermissionDenied(s)) return s;
      return absl::PermissionDeniedError(absl::StrCat(
          s.message(), "; listing with the same credentials worked, so nothing was copied"));
    }
    const std::string id = Tag(r.body, "UploadId");
    PGM_ASSIGN_OR_RETURN(HttpResponse d, Request("DELETE", key,
                                                 absl::StrCat("uploadId=", UriEncode(id, false)),
                                                 {}));
    if (d.status != 204 && d.status != 200) {
      return absl::PermissionDeniedError(absl::StrCat(
          "write refused: ", loc_.Display(), " let a test multipart upload start but answered ",
          d.status, " ", Tag(d.body, "Code"), " to its abort (upload id ", id,
          " under ", loc_.prefix, key, " may need aborting by hand)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<ObjectInfo>> List() override {
    std::vector<ObjectInfo> out;
    std::string token;
    for (;;) {
      // Parameters in the sorted order SigV4's canonical query wants.
      std::string q;
      if (!token.empty()) absl::StrAppend(&q, "continuation-token=", UriEncode(token, false), "&");
      absl::StrAppend(&q, "list-type=2&max-keys=", max_keys_);
      if (!loc_.prefix.empty()) absl::StrAppend(&q, "&prefix=", UriEncode(loc_.prefix, false));
      PGM_ASSIGN_OR_RETURN(HttpResponse r, Request("GET", "", q, {}));
      if (r.status != 200) return ErrorOf(r, "list");
      for (std::string_view item : Tags(r.body, "Contents")) {
        ObjectInfo o;
        std::string key = Tag(item, "Key");
        if (!absl::StartsWith(key, loc_.prefix)) continue;
        o.key = key.substr(loc_.prefix.size());
        o.size = std::strtoll(Tag(item, "Size").c_str(), nullptr, 10);
        o.etag = Unquote(Tag(item, "ETag"));
        if (!o.key.empty() && o.key.back() != '/') out.push_back(std::move(o));
      }
      if (Tag(r.body, "IsTruncated") != "true") break;
      token = Tag(r.body, "NextContinuationToken");
      if (token.empty()) return absl::InternalError("a truncated listing without a token");
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  absl::Status Read(const std::string& key, int64_t offset, int64_t length,
                    std::string* out) override {
    std::vector<std::string> h;
    if (length > 0) {
      h.push_back(absl::StrCat("Range: bytes=", offset, "-", offset + length - 1));
    }
    PGM_ASSIGN_OR_RETURN(HttpResponse r, Request("GET", key, "", h, {}, false, out));
    if (r.status != 200 && r.status != 206) return ErrorOf(r, absl::StrCat("GET ", key));
    if (static_cast<int64_t>(out->size()) != length) {
      return absl::DataLossError(absl::StrCat("GET ", key, ": ", out->size(),
                                              " bytes, expected ", length));
    }
    return absl::OkStatus();
  }

  // One GET, its body passed on as it arrives. Retried from the start only
  // when nothing was passed on yet.
  absl::Status Stream(const ObjectInfo& object, int64_t piece,
                      const std::function<absl::Status(std::string_view)>& sink) override {
    struct State {
      const std::function<absl::Status(std::string_view)>* sink;
      absl::Status status;
      int64_t passed = 0;
      std::string error_body;
      long status_code = 0;
      CURL* curl;
    } st{&sink, absl::OkStatus(), 0, "", 0, nullptr};
    for (int attempt = 0; attempt < kAttempts && st.passed == 0; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(150 << attempt));
      struct curl_slist* hs = nullptr;
      CURL* c = NewHandle("GET", object.key, "", {}, {}, &hs);
      st.curl = c;
      st.error_body.clear();
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
                       +[](char* data, size_t size, size_t n, void* user) -> size_t {
                         State* s = static_cast<State*>(user);
                         curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status_code);
                         if (s->status_code != 200) {
                           s->error_body.append(data, size * n);
                           return size * n;
                         }
                         s->status = (*s->sink)(std::string_view(data, size * n));
                         if (!s->status.ok()) return 0;  // Aborts the transfer.
                         s->passed += static_cast<int64_t>(size * n);
                         return size * n;
                       });
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
      CURLcode rc = curl_easy_perform(c);
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st.status_code);
      curl_slist_free_all(hs);
      curl_easy_cleanup(c);
      if (!st.status.ok()) return st.status;
      if (rc != CURLE_OK) {
        st.status = absl::UnavailableError(
            absl::StrCat("cannot reach ", loc_.endpoint, ": ", curl_easy_strerror(rc)));
        continue;
      }
      if (st.status_code >= 500 || st.status_code == 429) {
        st.status = absl::UnavailableError(absl::StrCat(loc_.endpoint, " answered ", st.status_code));
        continue;
      }
      if (st.status_code != 200) {
        HttpResponse r;
        r.status = st.status_code;
        r.body = st.error_body;
        return ErrorOf(r, absl::StrCat("GET ", object.key));
      }
      if (st.passed != object.size) {
        return absl::DataLossError(absl::StrCat("GET ", object.key, ": ", st.passed,
                                                " bytes, expected ", object.size));
      }
      return absl::OkStatus();
    }
    if (st.passed > 0 && !st.status.ok()) return st.status;
    (void)piece;
    return st.status.ok() ? absl::UnavailableError(absl::StrCat("cannot reach ", loc_.endpoint))
                          : st.status;
  }

  absl::StatusOr<std::unique_ptr<Upload>> BeginWrite(const std::string& key, int64_t size,
                                                     int64_t part_size) override {
    return std::unique_ptr<Upload>(new S3Upload(this, key, size, part_size));
  }

  absl::Status CopyFrom(ObjectStore& source, const ObjectInfo& object,
                        const std::string& key) override {
    const Location& s = source.location();
    if (s.local || s.endpoint != loc_.endpoint || s.access_key != loc_.access_key) {
      return absl::UnimplementedError("not on one server");
    }
    std::string src = absl::StrCat("x-amz-copy-source: /", s.bucket, "/",
                                   UriEncode(s.prefix + object.key, true));
    if (object.size > single_copy_limit_) return CopyInParts(object, key, src);
    PGM_ASSIGN_OR_RETURN(HttpResponse r,
                         Request("PUT", key, "", {src, "If-None-Match: *"}));
    if (r.status != 200 || !Tag(r.body, "Code").empty()) {
      return ErrorOf(r, absl::StrCat("copy of ", object.key));
    }
    return absl::OkStatus();
  }

  // Above 5 GiB S3 copies only part by part (UploadPartCopy), still on the
  // server: no bytes through pgmerge.
  absl::Status CopyInParts(const ObjectInfo& object, const std::string& key,
                           const std::string& src) {
    PGM_ASSIGN_OR_RETURN(HttpResponse start, Request("POST", key, "uploads=", {}));
    if (start.status != 200) return ErrorOf(start, absl::StrCat("multipart start of ", key));
    const std::string id = UriEncode(Tag(start.body, "UploadId"), false);
    // Parts of at least 5 MiB (S3's minimum), at most 10,000 of them.
    const int64_t part = std::max<int64_t>(
        {int64_t{5} << 20, std::min<int64_t>(single_copy_limit_, int64_t{512} << 20),
         (object.size + 9999) / 10000});
    std::string xml = "<CompleteMultipartUpload>";
    int n = 0;
    for (int64_t off = 0; off < object.size; off += part) {
      ++n;
      const int64_t end = std::min(object.size, off + part) - 1;
      absl::StatusOr<HttpResponse> r = Request(
          "PUT", key, absl::StrCat("partNumber=", n, "&uploadId=", id),
          {src, absl::StrCat("x-amz-copy-source-range: bytes=", off, "-", end)});
      if (!r.ok() || r->status != 200 || !Tag(r->body, "Code").empty()) {
        Request("DELETE", key, absl::StrCat("uploadId=", id), {}).IgnoreError();
        return r.ok() ? ErrorOf(*r, absl::StrCat("part ", n, " of the copy of ", object.key))
                      : r.status();
      }
      absl::StrAppend(&xml, "<Part><PartNumber>", n, "</PartNumber><ETag>\"",
                      Unquote(Tag(r->body, "ETag")), "\"</ETag></Part>");
    }
    xml += "</CompleteMultipartUpload>";
    PGM_ASSIGN_OR_RETURN(HttpResponse done,
                         Request("POST", key, absl::StrCat("uploadId=", id),
                                 {"If-None-Match: *", "Content-Type: application/xml"}, xml, true));
    if (done.status != 200 || !Tag(done.body, "Code").empty()) {
      Request("DELETE", key, absl::StrCat("uploadId=", id), {}).IgnoreError();
      return ErrorOf(done, absl::StrCat("multipart completion of the copy of ", object.key));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ContentMd5(const ObjectInfo& object) override {
    // A single-part ETag is the MD5; a multipart one ("...-N") is not.
    if (object.etag.size() == 32 && object.etag.find('-') == std::string::npos) {
      return object.etag;
    }
    return std::string();
  }

  absl::Status CreateContainer() override {
    PGM_ASSIGN_OR_RETURN(HttpResponse r, Request("PUT", "", "", {}));
    if (r.status != 200) return ErrorOf(r, "create bucket");
    return absl::OkStatus();
  }

  void set_max_keys(int n) { max_keys_ = n; }
  void set_single_copy_limit(int64_t n) { single_copy_limit_ = n; }
  void set_resolve(const std::vector<std::string>& entries) {
    for (const std::string& e : entries) resolve_ = curl_slist_append(resolve_, e.c_str());
  }
  ~S3Store() override { curl_slist_free_all(resolve_); }

 private:
  static constexpr int kAttempts = 4;
  Location loc_;
  int max_keys_ = 1000;
  int64_t single_copy_limit_ = int64_t{5} << 30;  // S3's CopyObject limit.
  curl_slist* resolve_ = nullptr;  // CURLOPT_RESOLVE entries (tests).
  friend class S3Upload;
};

absl::Status S3Upload::Write(std::string_view part) {
  if (size_ <= part_size_) {
    single_.append(part);
    return absl::OkStatus();
  }
  if (upload_id_.empty()) {
    PGM_ASSIGN_OR_RETURN(HttpResponse r, store_->Request("POST", key_, "uploads=", {}));
    if (r.status != 200) return store_->ErrorOf(r, absl::StrCat("multipart start of ", key_));
    upload_id_ = Tag(r.body, "UploadId");
    if (upload_id_.empty()) return absl::InternalError("no UploadId in the answer");
  }
  const int n = static_cast<int>(etags_.size()) + 1;
  PGM_ASSIGN_OR_RETURN(
      HttpResponse r,
      store_->Request("PUT", key_,
                      absl::StrCat("partNumber=", n, "&uploadId=", UriEncode(upload_id_, false)),
                      {}, part, true));
  if (r.status != 200) return store_->ErrorOf(r, absl::StrCat("part ", n, " of ", key_));
  etags_.push_back(r.etag);
  return absl::OkStatus();
}

absl::Status S3Upload::Finish() {
  // If-None-Match: * makes the server refuse to replace an object that
  // appeared since the listing (servers that ignore it still never see a
  // key pgmerge listed as present).
  if (upload_id_.empty()) {
    PGM_ASSIGN_OR_RETURN(HttpResponse r,
                         store_->Request("PUT", key_, "", {"If-None-Match: *"}, single_, true));
    if (r.status != 200) return store_->ErrorOf(r, absl::StrCat("PUT ", key_));
    return absl::OkStatus();
  }
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags_.size(); ++i) {
    absl::StrAppend(&xml, "<Part><PartNumber>", i + 1, "</PartNumber><ETag>\"", etags_[i],
                    "\"</ETag></Part>");
  }
  xml += "</CompleteMultipartUpload>";
  PGM_ASSIGN_OR_RETURN(
      HttpResponse r,
      store_->Request("POST", key_, absl::StrCat("uploadId=", UriEncode(upload_id_, false)),
                      {"If-None-Match: *", "Content-Type: application/xml"}, xml, true));
  if (r.status != 200 || !Tag(r.body, "Code").empty()) {
    return store_->ErrorOf(r, absl::StrCat("multipart completion of ", key_));
  }
  upload_id_.clear();
  return absl::OkStatus();
}

void S3Upload::Abort() {
  if (upload_id_.empty()) return;
  store_
      ->Request("DELETE", key_, absl::StrCat("uploadId=", UriEncode(upload_id_, false)), {})
      .IgnoreError();  // Only the unfinished upload; never an object.
  upload_id_.clear();
}

}  // namespace

std::unique_ptr<ObjectStore> NewS3Store(const Location& location, const StoreOptions& options) {
  auto store = std::make_unique<S3Store>(location);
  store->set_max_keys(options.max_keys);
  store->set_single_copy_limit(options.single_copy_limit);
  store->set_resolve(options.resolve);
  return store;
}

}  // namespace pgmerge::storage
