// AWS Signature Version 4 over OpenSSL, done here rather than by libcurl
// (CURLOPT_AWS_SIGV4 in curl 7.88 signs an `expect` header it does not send
// and sorts whole header lines, not names): what is signed is exactly what
// the caller then sends.
#ifndef PGMERGE_STORAGE_SIGV4_H_
#define PGMERGE_STORAGE_SIGV4_H_

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmerge::storage {

struct Credentials {
  std::string access_key, secret_key;
  std::string session_token;  // Temporary credentials (STS); "" for none.
};

// One HTTP request as it goes on the wire.
struct SignableRequest {
  std::string method;  // "GET", "PUT", ...
  // The path and query exactly as sent, already URI-encoded (S3's rules:
  // the path is signed as it is, not encoded again; the query's pairs are
  // decoded, re-encoded and sorted as SigV4 wants).
  std::string path = "/";
  std::string query;
  // Every header that will be sent, `host` included; all are signed.
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct Signature {
  std::string canonical_request, string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // Hex.
  std::string authorization;   // The Authorization header's value.
};

// The signature of `request` as it stands. REQUIRES: `amz_date` is
// "YYYYMMDDTHHMMSSZ" (UTC) and equal to the request's x-amz-date header.
Signature ComputeSignature(const SignableRequest& request, const Credentials& credentials,
                           std::string_view region, std::string_view service,
                           std::string_view amz_date);

// Adds x-amz-date, x-amz-content-sha256 (for service "s3") and, with a
// session token, x-amz-security-token to the request's headers, then the
// Authorization header. The request is then ready to send as it is.
Signature Sign(SignableRequest* request, const Credentials& credentials, std::string_view region,
               std::string_view service, std::string_view amz_date);

// "YYYYMMDDTHHMMSSZ" for `t`.
std::string AmzDate(std::chrono::system_clock::time_point t);
std::string Sha256Hex(std::string_view data);

// The query of a request as SigV4 signs it: pairs split on '&' and '=',
// decoded then encoded with S3's rules, sorted by key then value.
std::string CanonicalQuery(std::string_view query);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_SIGV4_H_
