#include "storage/object_store.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"

namespace pgmerge::storage {
namespace {

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// S3's URI encoding: every byte but the unreserved ones, '/' kept in keys.
std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string UriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      if (std::sscanf(std::string(s.substr(i + 1, 2)).c_str(), "%2x", &v) == 1) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string XmlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out.push_back('&');
    else if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      unsigned long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                             ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                             : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
      // UTF-8 encode.
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

// The text of each <tag>...</tag> in order, from `from`.
std::vector<std::string_view> Tags(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  for (;;) {
    size_t a = xml.find(open, pos);
    if (a == std::string_view::npos) break;
    a += open.size();
    size_t b = xml.find(close, a);
    if (b == std::string_view::npos) break;
    out.push_back(xml.substr(a, b - a));
    pos = b + close.size();
  }
  return out;
}

std::string Tag(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> t = Tags(xml, tag);
  return t.empty() ? std::string() : XmlDecode(t.front());
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::string Md5Hex(const unsigned char* digest) {
  std::string out;
  for (int i = 0; i < 16; ++i) absl::StrAppendFormat(&out, "%02x", digest[i]);
  return out;
}

// ---- S3 ------------------------------------------------------------------

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

  std::string Url(const std::string& key, const std::string& query) const {
    std::string scheme_end = "://";
    size_t p = loc_.endpoint.find(scheme_end);
    std::string scheme = loc_.endpoint.substr(0, p);
    std::string host = loc_.endpoint.substr(p + scheme_end.size());
    std::string path = key.empty() ? "" : UriEncode(loc_.prefix + key, true);
    std::string url = loc_.path_style
                          ? absl::StrCat(scheme, "://", host, "/", loc_.bucket, "/", path)
                          : absl::StrCat(scheme, "://", loc_.bucket, ".", host, "/", path);
    if (!query.empty()) absl::StrAppend(&url, "?", query);
    return url;
  }

  // A handle for `key` signed with the location's credentials (libcurl
  // copies the strings it is given).
  CURL* NewHandle(const std::string& key, const std::string& query) const {
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, Url(key, query).c_str());
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, absl::StrCat("aws:amz:", loc_.region, ":s3").c_str());
    curl_easy_setopt(c, CURLOPT_USERNAME, loc_.access_key.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, loc_.secret_key.c_str());
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
      CURL* c = NewHandle(key, query);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
      curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
      curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
      struct curl_slist* hs = nullptr;
      // The payload is not hashed into the signature: bodies are streamed.
      hs = curl_slist_append(hs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
      for (const std::string& h : headers) hs = curl_slist_append(hs, h.c_str());
      BodySource src{body, 0};
      if (method == "PUT") {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
        hs = curl_slist_append(hs, "Expect:");
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
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
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
    std::string where = absl::StrCat(loc_.alias, "/", loc_.bucket, " at ", loc_.endpoint);
    if (code == "NoSuchBucket" || (r.status == 404 && what == "list")) {
      return absl::NotFoundError(absl::StrCat("bucket \"", loc_.bucket, "\" does not exist at ",
                                              loc_.endpoint));
    }
    if (r.status == 401 || r.status == 403) {
      return absl::PermissionDeniedError(absl::StrCat(
          "access denied by ", where, " (", code.empty() ? absl::StrCat(r.status) : code,
          "): check the credentials of alias \"", loc_.alias, "\""));
    }
    if (r.status == 412) {
      return absl::AlreadyExistsError("the object appeared meanwhile; not replaced");
    }
    return absl::InternalError(absl::StrCat(what, " failed at ", where, ": HTTP ", r.status,
                                            code.empty() ? "" : " ", code));
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
      CURL* c = NewHandle(object.key, "");
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
      struct curl_slist* hs = curl_slist_append(nullptr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
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

 private:
  static constexpr int kAttempts = 4;
  Location loc_;
  int max_keys_ = 1000;
  int64_t single_copy_limit_ = int64_t{5} << 30;  // S3's CopyObject limit.
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

// ---- Local directory ----------------------------------------------------

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

std::string ReadWholeFile(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Loopback and private addresses: where plain HTTP stays on the machine or
// the local network (the seed's MinIO beside PostgreSQL).
bool IsLocalNetwork(const std::string& host) {
  if (host == "localhost" || absl::EndsWith(host, ".localhost") || host == "[::1]") return true;
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  if (std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return false;
  return a == 127 || a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168);
}

bool IsIpOrLocal(std::string_view host) {
  if (host == "localhost" || host.empty()) return true;
  for (char c : host) {
    if (!(absl::ascii_isdigit(c) || c == '.' || c == ':' || c == '[' || c == ']')) return false;
  }
  return true;
}

}  // namespace

absl::Status ObjectStore::Stream(const ObjectInfo& object, int64_t piece,
                                 const std::function<absl::Status(std::string_view)>& sink) {
  std::string buf;
  for (int64_t off = 0; off < object.size; off += piece) {
    PGM_RETURN_IF_ERROR(Read(object.key, off, std::min(piece, object.size - off), &buf));
    PGM_RETURN_IF_ERROR(sink(buf));
  }
  return absl::OkStatus();
}

std::string Location::Display() const {
  if (local) return dir;
  std::string out = absl::StrCat(alias, "/", bucket);
  if (!prefix.empty()) absl::StrAppend(&out, "/", prefix);
  return out;
}

absl::StatusOr<Location> ParseLocation(std::string_view arg,
                                       const std::map<std::string, std::string>& env,
                                       const std::string& mc_config) {
  Location loc;
  std::string a(arg);
  struct stat st;
  if (a.empty()) return absl::InvalidArgumentError("an empty address");
  if (a[0] == '/' || absl::StartsWith(a, "./") || absl::StartsWith(a, "../") || a == "." ||
      (stat(a.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
    loc.local = true;
    loc.dir = a;
    while (loc.dir.size() > 1 && loc.dir.back() == '/') loc.dir.pop_back();
    return loc;
  }
  size_t slash = a.find('/');
  loc.alias = a.substr(0, slash);
  if (slash == std::string::npos || slash + 1 >= a.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(a, ": an address is ALIAS/BUCKET[/PREFIX] or a local directory"));
  }
  std::string rest = a.substr(slash + 1);
  size_t s2 = rest.find('/');
  loc.bucket = rest.substr(0, s2);
  if (s2 != std::string::npos) loc.prefix = rest.substr(s2 + 1);
  if (!loc.prefix.empty() && loc.prefix.back() != '/') loc.prefix.push_back('/');

  std::string url, path_mode = "auto";
  auto it = env.find(absl::StrCat("MC_HOST_", loc.alias));
  if (it != env.end()) {
    // http(s)://ACCESS:SECRET@HOST:PORT, parts percent-encoded.
    std::string u = it->second;
    size_t scheme = u.find("://");
    size_t at = u.rfind('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MC_HOST_", loc.alias, " is not http(s)://ACCESS:SECRET@HOST:PORT"));
    }
    std::string cred = u.substr(scheme + 3, at - scheme - 3);
    size_t colon = cred.find(':');
    loc.access_key = UriDecode(cred.substr(0, colon));
    if (colon != std::string::npos) loc.secret_key = UriDecode(cred.substr(colon + 1));
    url = u.substr(0, scheme + 3) + u.substr(at + 1);
  } else {
    bool ok = false;
    std::string text = mc_config.empty() ? "" : ReadWholeFile(mc_config, &ok);
    nlohmann::json cfg = ok ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json();
    const nlohmann::json* alias = nullptr;
    if (ok && cfg.is_object()) {
      for (const char* k : {"aliases", "hosts"}) {  // mc 10 / older mc.
        if (cfg.contains(k) && cfg[k].is_object() && cfg[k].contains(loc.alias)) {
          alias = &cfg[k][loc.alias];
        }
      }
    }
    if (alias == nullptr || !alias->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown alias \"", loc.alias, "\": set MC_HOST_", loc.alias,
          "=https://ACCESS:SECRET@HOST:PORT or add it with `mc alias set`"));
    }
    url = alias->value("url", "");
    loc.access_key = alias->value("accessKey", "");
    loc.secret_key = alias->value("secretKey", "");
    path_mode = alias->value("path", "auto");
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("alias \"", loc.alias, "\": the URL must start with http:// or https://"));
  }
  loc.endpoint = url;
  std::string host = url.substr(url.find("://") + 3);
  host = host.substr(0, host.rfind(':') == std::string::npos || host.back() == ']'
                            ? host.size()
                            : host.rfind(':'));
  loc.path_style = path_mode == "on" || (path_mode != "off" && !absl::StrContains(host, "amazonaws.com"));
  if (IsIpOrLocal(host)) loc.path_style = true;
  loc.local_network = IsLocalNetwork(host);
  for (const char* k : {"MC_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"}) {
    auto r = env.find(k);
    if (r != env.end() && !r->second.empty()) {
      loc.region = r->second;
      break;
    }
  }
  return loc;
}

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenStore(const Location& location) {
  if (location.local) return std::unique_ptr<ObjectStore>(new LocalStore(location));
  auto store = std::make_unique<S3Store>(location);
  // Test hook: small listing pages exercise pagination cheaply.
  if (const char* n = std::getenv("PGMERGE_TEST_S3_MAX_KEYS")) store->set_max_keys(std::atoi(n));
  // Test hook: copies above this size go part by part (5 GiB otherwise).
  if (const char* n = std::getenv("PGMERGE_TEST_S3_COPY_LIMIT")) {
    store->set_single_copy_limit(std::atoll(n));
  }
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace pgmerge::storage
