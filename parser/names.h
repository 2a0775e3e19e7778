// Table names and identifier quoting, shared by every stage.
#ifndef PGMERGE_PARSER_NAMES_H_
#define PGMERGE_PARSER_NAMES_H_

#include <string>
#include <string_view>

namespace pgmerge::parser {

// A schema-qualified relation name, as the server stores it (unquoted,
// case preserved).
struct TableName {
  std::string schema;
  std::string name;

  // "schema.name" with each part quoted only where SQL needs it; unique per
  // table, so it also serves as a map key and in messages.
  std::string Display() const;
  friend bool operator==(const TableName& a, const TableName& b) {
    return a.schema == b.schema && a.name == b.name;
  }
  friend bool operator<(const TableName& a, const TableName& b) {
    return a.schema != b.schema ? a.schema < b.schema : a.name < b.name;
  }
};

// `ident` as SQL: bare when it is lower-case [a-z_][a-z0-9_$]* and not a
// reserved word, else in double quotes with inner quotes doubled.
std::string QuoteIdentifier(std::string_view ident);

// Always in double quotes: for SQL that pgmerge writes, where a bare word
// could collide with a keyword of some future server version.
std::string QuoteIdentifierAlways(std::string_view ident);

// Reads one identifier at the start of *text (quoted, or bare and folded to
// lower case as PostgreSQL does), stores it in *out and advances *text.
// Returns false when *text does not start with an identifier.
bool ConsumeIdentifier(std::string_view* text, std::string* out);

// Reads "name" or "schema.name"; a bare name gets schema "public".
bool ConsumeTableName(std::string_view* text, TableName* out);

}  // namespace pgmerge::parser

#endif  // PGMERGE_PARSER_NAMES_H_
