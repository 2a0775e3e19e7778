#include "storage/location.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "storage/xml_uri.h"

namespace pgmerge::storage {
namespace {

using internal::UriDecode;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

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

// An AWS ini file (~/.aws/credentials, ~/.aws/config): section -> key ->
// value. Indented lines (nested settings such as `s3 =`) are skipped.
using Ini = std::map<std::string, std::map<std::string, std::string>>;
Ini ReadIni(const std::string& path) {
  Ini out;
  bool ok = false;
  std::string text = path.empty() ? "" : ReadWholeFile(path, &ok);
  std::string section;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    std::string t = Str(absl::StripAsciiWhitespace(line));
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = Str(absl::StripAsciiWhitespace(absl::string_view(t).substr(1, t.size() - 2)));
      out[section];
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    out[section][Str(absl::StripAsciiWhitespace(absl::string_view(t).substr(0, eq)))] =
        Str(absl::StripAsciiWhitespace(absl::string_view(t).substr(eq + 1)));
  }
  return out;
}

std::string EnvOr(const std::map<std::string, std::string>& env, const char* key,
                  const std::string& otherwise = "") {
  auto it = env.find(key);
  return it == env.end() || it->second.empty() ? otherwise : it->second;
}

// `url` (http(s)://HOST[:PORT]) into the location: endpoint, addressing
// style ("on", "off", "auto": path style except on amazonaws.com) and
// whether the host is local.
absl::Status SetEndpoint(std::string url, const std::string& path_mode, const std::string& whose,
                         Location* loc) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(whose, ": the URL must start with http:// or https://"));
  }
  loc->endpoint = url;
  std::string host = url.substr(url.find("://") + 3);
  host = host.substr(0, host.rfind(':') == std::string::npos || host.back() == ']'
                            ? host.size()
                            : host.rfind(':'));
  loc->path_style = path_mode == "on" ||
                    (path_mode != "off" && !absl::StrContains(host, "amazonaws.com"));
  if (IsIpOrLocal(host)) loc->path_style = true;
  loc->local_network = IsLocalNetwork(host);
  return absl::OkStatus();
}

// `s3://BUCKET[/PREFIX]` as the AWS CLI and SDKs read it: credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the
// profile (AWS_PROFILE, else "default") of ~/.aws/credentials or
// ~/.aws/config; region AWS_REGION, AWS_DEFAULT_REGION or the profile's;
// endpoint AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
// endpoint_url, else AWS's own for the region.
absl::StatusOr<Location> ParseAwsLocation(const std::string& a,
                                          const std::map<std::string, std::string>& env) {
  Location loc;
  loc.alias = "s3:/";  // Display(): "s3://bucket/prefix".
  std::string rest = a.substr(5);
  size_t slash = rest.find('/');
  loc.bucket = rest.substr(0, slash);
  if (loc.bucket.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(a, ": an address is s3://BUCKET[/PREFIX]"));
  }
  if (slash != std::string::npos) loc.prefix = rest.substr(slash + 1);
  if (!loc.prefix.empty() && loc.prefix.back() != '/') loc.prefix.push_back('/');
  const std::string home = EnvOr(env, "HOME");
  const std::string creds_path =
      EnvOr(env, "AWS_SHARED_CREDENTIALS_FILE", home.empty() ? "" : home + "/.aws/credentials");
  const std::string config_path =
      EnvOr(env, "AWS_CONFIG_FILE", home.empty() ? "" : home + "/.aws/config");
  const std::string profile = EnvOr(env, "AWS_PROFILE", "default");
  const Ini creds = ReadIni(creds_path), config = ReadIni(config_path);
  const std::map<std::string, std::string> none;
  auto section = [&](const Ini& ini, const std::string& name)
      -> const std::map<std::string, std::string>& {
    auto it = ini.find(name);
    return it == ini.end() ? none : it->second;
  };
  const auto& cred = section(creds, profile);
  const auto& conf = section(config, profile == "default" ? "default" : "profile " + profile);
  auto value = [&](const std::string& key) {
    auto it = cred.find(key);
    if (it != cred.end()) return it->second;
    it = conf.find(key);
    return it == conf.end() ? std::string() : it->second;
  };
  if (!EnvOr(env, "AWS_ACCESS_KEY_ID").empty() && !EnvOr(env, "AWS_SECRET_ACCESS_KEY").empty()) {
    loc.access_key = EnvOr(env, "AWS_ACCESS_KEY_ID");
    loc.secret_key = EnvOr(env, "AWS_SECRET_ACCESS_KEY");
    loc.session_token = EnvOr(env, "AWS_SESSION_TOKEN");
    loc.credential_source = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  } else if (!value("aws_access_key_id").empty() && !value("aws_secret_access_key").empty()) {
    loc.access_key = value("aws_access_key_id");
    loc.secret_key = value("aws_secret_access_key");
    loc.session_token = value("aws_session_token");
    loc.credential_source = absl::StrCat("profile \"", profile, "\" of ",
                                         cred.empty() ? config_path : creds_path);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        a, ": no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give "
        "profile \"", profile, "\" aws_access_key_id and aws_secret_access_key in ",
        creds_path.empty() ? "~/.aws/credentials" : creds_path));
  }
  loc.region = EnvOr(env, "AWS_REGION", EnvOr(env, "AWS_DEFAULT_REGION", value("region")));
  if (loc.region.empty()) loc.region = "us-east-1";
  std::string url = EnvOr(env, "AWS_ENDPOINT_URL_S3", EnvOr(env, "AWS_ENDPOINT_URL",
                                                            value("endpoint_url")));
  if (url.empty()) url = absl::StrCat("https://s3.", loc.region, ".amazonaws.com");
  PGM_RETURN_IF_ERROR(SetEndpoint(url, "auto", absl::StrCat(a, " (endpoint ", url, ")"), &loc));
  return loc;
}

}  // namespace

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
  if (absl::StartsWith(a, "s3://")) {
    absl::StatusOr<Location> aws = ParseAwsLocation(a, env);
    if (aws.ok()) aws->ca_bundle = EnvOr(env, "AWS_CA_BUNDLE");
    return aws;
  }
  // A private CA (MinIO's own certificate) for mc aliases too.
  loc.ca_bundle = EnvOr(env, "AWS_CA_BUNDLE");
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
  loc.credential_source = absl::StrCat("alias \"", loc.alias, "\"");
  PGM_RETURN_IF_ERROR(
      SetEndpoint(url, path_mode, absl::StrCat("alias \"", loc.alias, "\""), &loc));
  for (const char* k : {"MC_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"}) {
    auto r = env.find(k);
    if (r != env.end() && !r->second.empty()) {
      loc.region = r->second;
      break;
    }
  }
  return loc;
}

}  // namespace pgmerge::storage
