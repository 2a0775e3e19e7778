#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "storage/xml_uri.h"

namespace pgmerge::storage {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// A header value as SigV4 signs it: outer spaces trimmed, each inner run
// of spaces one space (the AWS test suite's get-header-value-trim).
std::string CanonicalValue(std::string_view v) {
  std::string out;
  for (char c : absl::StripAsciiWhitespace(absl::string_view(v.data(), v.size()))) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t a = 0;
  while (a < query.size()) {
    size_t b = query.find('&', a);
    if (b == std::string_view::npos) b = query.size();
    std::string_view pair = query.substr(a, b - a);
    a = b + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    pairs.emplace_back(internal::UriEncode(internal::UriDecode(k), false),
                       internal::UriEncode(internal::UriDecode(v), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) absl::StrAppend(&out, out.empty() ? "" : "&", k, "=", v);
  return out;
}

Signature ComputeSignature(const SignableRequest& r, const Credentials& credentials,
                           std::string_view region, std::string_view service,
                           std::string_view amz_date) {
  // Names lower-cased and sorted by name alone (a stable sort keeps
  // repeated headers in sending order; their values join with ',').
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : r.headers) {
    headers.emplace_back(absl::AsciiStrToLower(name), CanonicalValue(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string canonical_headers;
  Signature s;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      absl::StrAppend(&canonical_headers, ",", headers[i].second);
      continue;
    }
    absl::StrAppend(&canonical_headers, i > 0 ? "\n" : "", headers[i].first, ":",
                    headers[i].second);
    absl::StrAppend(&s.signed_headers, s.signed_headers.empty() ? "" : ";", headers[i].first);
  }
  s.canonical_request = absl::StrCat(r.method, "\n", r.path.empty() ? "/" : r.path, "\n",
                                     CanonicalQuery(r.query), "\n", canonical_headers, "\n\n",
                                     s.signed_headers, "\n", r.payload_hash);
  const std::string day(amz_date.substr(0, 8));
  const std::string scope = absl::StrCat(day, "/", AsAbsl(region), "/", AsAbsl(service),
                                         "/aws4_request");
  s.string_to_sign = absl::StrCat("AWS4-HMAC-SHA256\n", AsAbsl(amz_date), "\n", scope, "\n",
                                  Sha256Hex(s.canonical_request));
  std::string key = Hmac(absl::StrCat("AWS4", credentials.secret_key), day);
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  const std::string mac = Hmac(key, s.string_to_sign);
  s.signature = Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
  s.authorization = absl::StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key, "/",
                                 scope, ", SignedHeaders=", s.signed_headers,
                                 ", Signature=", s.signature);
  return s;
}

Signature Sign(SignableRequest* request, const Credentials& credentials, std::string_view region,
               std::string_view service, std::string_view amz_date) {
  request->headers.emplace_back("x-amz-date", std::string(amz_date));
  if (service == "s3") request->headers.emplace_back("x-amz-content-sha256", request->payload_hash);
  if (!credentials.session_token.empty()) {
    request->headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  Signature s = ComputeSignature(*request, credentials, region, service, amz_date);
  request->headers.emplace_back("Authorization", s.authorization);
  return s;
}

}  // namespace pgmerge::storage
