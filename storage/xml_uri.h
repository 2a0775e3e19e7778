// The text formats of S3's wire: URI encoding (S3's rules, as SigV4 signs
// them) and the few XML elements pgmerge reads from its answers. Internal
// to storage/.
#ifndef PGMERGE_STORAGE_XML_URI_H_
#define PGMERGE_STORAGE_XML_URI_H_

#include <string>
#include <string_view>
#include <vector>

namespace pgmerge::storage::internal {

// Every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex); '/' kept
// when `keep_slash` (object keys in a path).
std::string UriEncode(std::string_view s, bool keep_slash);
// %XX decoded; anything else (a lone '%', '+') kept as it is.
std::string UriDecode(std::string_view s);
// XML's five entities and numeric references (as UTF-8) decoded.
std::string XmlDecode(std::string_view s);
// The raw text of each <tag>...</tag> in order (views into `xml`).
std::vector<std::string_view> Tags(std::string_view xml, std::string_view tag);
// The first <tag>'s text, decoded; "" when absent.
std::string Tag(std::string_view xml, std::string_view tag);
// "\"abc\"" -> "abc" (ETags); anything else unchanged.
std::string Unquote(std::string s);

}  // namespace pgmerge::storage::internal

#endif  // PGMERGE_STORAGE_XML_URI_H_
