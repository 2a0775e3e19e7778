// `pgmerge inspect`: prints a dump's catalog for people or as JSON.
#ifndef PGMERGE_TOOLS_INSPECT_H_
#define PGMERGE_TOOLS_INSPECT_H_

#include <string>

#include "parser/catalog.h"

namespace pgmerge::tools {

// The catalog as JSON; the schema is documented in docs/inspect-json.md.
std::string CatalogJson(const parser::Catalog& catalog,
                        const std::string& file_name);

// The catalog as text: a table a line, then its foreign keys.
std::string CatalogText(const parser::Catalog& catalog,
                        const std::string& file_name);

}  // namespace pgmerge::tools

#endif  // PGMERGE_TOOLS_INSPECT_H_
