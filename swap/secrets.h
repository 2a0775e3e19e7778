// Passwords given on the command line (a conninfo `password=...` or a URI's
// `user:password@` / `?password=`): kept out of `ps` and out of every
// message. Pure string code; no libpq.
#ifndef PGMERGE_SWAP_SECRETS_H_
#define PGMERGE_SWAP_SECRETS_H_

#include <string>
#include <string_view>
#include <vector>

namespace pgmerge::swap {

// Overwrites, in place, every password value found in argv[1..argc-1] with
// 'x' bytes, so /proc/PID/cmdline and `ps` no longer show it. Call it once
// the arguments are copied (the parsed options keep the real values).
// Not thread-safe (it writes argv).
void ScrubPasswordsFromArgv(int argc, char** argv);

// The password values `text` (a conninfo string or URI, or any argument)
// holds, for redacting them from messages that quote them some other way.
std::vector<std::string> PasswordsIn(std::string_view text);

// `text` with every password value replaced by "***": conninfo
// `password=value` (quoted or not), URI `user:value@` and `password=value`
// parameters, and each of `known` wherever it appears.
std::string RedactPasswords(std::string_view text, const std::vector<std::string>& known = {});

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_SECRETS_H_
