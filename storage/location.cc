#include "storage/location.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/xml_uri.h"

namespace pgmerge::storage {
namespace {

using internal::UriDecode;

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

}  // namespace pgmerge::storage
