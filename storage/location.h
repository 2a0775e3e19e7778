// Where the mirror's objects live, parsed from the address a user writes:
// mc's `ALIAS/BUCKET[/PREFIX]`, `s3://BUCKET[/PREFIX]` or a local directory.
#ifndef PGMERGE_STORAGE_LOCATION_H_
#define PGMERGE_STORAGE_LOCATION_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pgmerge::storage {

struct Location {
  bool local = false;
  std::string dir;  // local: the directory (keys are relative paths).
  // S3:
  std::string alias;     // As the user named it (for messages).
  std::string endpoint;  // scheme://host[:port], no credentials.
  std::string access_key, secret_key, region = "us-east-1";
  std::string session_token;  // Temporary credentials; "" for none.
  // Where the credentials came from, for messages: `alias "prod"`,
  // `AWS_ACCESS_KEY_ID`, `profile "dev" of ~/.aws/credentials`.
  std::string credential_source;
  // PEM file of the CAs to trust for https (AWS_CA_BUNDLE); "" for the
  // system's.
  std::string ca_bundle;
  std::string bucket, prefix;  // prefix: "" or ends with '/'... as given.
  bool path_style = true;
  bool local_network = false;  // Loopback or a private address.
  // For messages: alias/bucket/prefix or the directory; never a secret.
  std::string Display() const;
};

// `s3://BUCKET[/PREFIX]` with the AWS environment and files (AWS_* variables,
// ~/.aws/credentials and ~/.aws/config profiles), or
// `ALIAS/BUCKET[/PREFIX]` with ALIAS from `MC_HOST_<ALIAS>` in `env`
// (http(s)://ACCESS:SECRET@HOST[:PORT]) or from mc's config file at
// `mc_config` (aliases.NAME.url/accessKey/secretKey/path); or a local
// directory (absolute, ./ or ../, or an existing directory).
absl::StatusOr<Location> ParseLocation(std::string_view arg,
                                       const std::map<std::string, std::string>& env,
                                       const std::string& mc_config);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_LOCATION_H_
