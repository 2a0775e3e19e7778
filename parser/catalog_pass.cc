// The catalog pass: one read of a dump (parser/dump_reader.h) that hands
// each DDL statement to the catalog builder (catalog_builder.h), checks each
// data block and row against the tables built so far and counts the rows,
// keeps the table of contents' object headers, and takes the large objects
// aside (parser/large_objects.h).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/page_releaser.h"
#include "base/status.h"
#include "parser/catalog.h"
#include "parser/catalog_builder.h"
#include "parser/dump_reader.h"
#include "parser/large_objects.h"
#include "parser/names.h"

namespace pgmerge::parser {
namespace {

using internal::CatalogBuilder;

// Checks each data block's table and columns when it starts, and each row's
// width; counts the rows into their table.
class DataChecker {
 public:
  DataChecker(CatalogBuilder* builder, const std::string& file_name)
      : builder_(builder), catalog_(&builder->catalog()), file_(file_name) {}

  absl::Status Block(const DumpEvent& ev);
  absl::Status Row(const DumpEvent& ev);
  void AddSkippedRows(const DumpEvent& ev) {
    if (block_table_ != nullptr && Current(ev)) {
      block_table_->row_count += ev.skipped_rows;
    }
  }

 private:
  // Whether block_table_ is `ev`'s table: the same block, and no table added
  // since (adding one may move the tables).
  bool Current(const DumpEvent& ev) const {
    return ev.block == last_block_ && catalog_->tables().size() == tables_seen_;
  }
  absl::StatusOr<Table*> ExtensionConfigTable(const DumpEvent& ev);
  absl::Status CheckDefaults(const DumpEvent& ev);

  const CatalogBuilder* builder_;
  Catalog* catalog_;
  const std::string& file_;
  int64_t last_block_ = -1;
  size_t tables_seen_ = 0;
  Table* block_table_ = nullptr;
  size_t block_width_ = 0;
};

absl::Status DataChecker::Block(const DumpEvent& ev) {
  if (!Current(ev)) {
    last_block_ = ev.block;
    block_table_ = catalog_->FindTable(ev.target->table);
    tables_seen_ = catalog_->tables().size();
    if (block_table_ == nullptr) {
      PGM_ASSIGN_OR_RETURN(block_table_, ExtensionConfigTable(ev));
    }
    block_table_->has_data = true;
    if (ev.target->columns.empty()) {
      block_width_ = 0;
      for (const Column& c : block_table_->columns) block_width_ += !c.generated;
      if (ev.target->from_insert) PGM_RETURN_IF_ERROR(CheckDefaults(ev));
    } else {
      block_width_ = ev.target->columns.size();
      for (const std::string& c : ev.target->columns) {
        if (block_table_->ColumnIndex(c) < 0) {
          return InputError(file_, ev.line,
                            absl::StrCat("data names column ", QuoteIdentifier(c),
                                         ", which table ",
                                         block_table_->name.Display(),
                                         " does not have"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Table*> DataChecker::ExtensionConfigTable(const DumpEvent& ev) {
  // pg_dump writes the rows users added to an extension's configuration
  // table (pg_extension_config_dump, as PostGIS's spatial_ref_sys) and no
  // CREATE TABLE: CREATE EXTENSION makes it, so one must come first.
  const TableName& name = ev.target->table;
  if (!builder_->has_extensions()) return builder_->NoTable(name, ev.line);
  if (ev.target->columns.empty()) {
    return InputError(
        file_, ev.line,
        absl::StrCat("rows of table ", name.Display(),
                     ", which the dump does not create (an extension's configuration "
                     "table?), without a column list: dump with COPY or --column-inserts"));
  }
  Table t;
  t.name = name;
  t.line = ev.line;
  t.extension_config = true;
  for (const std::string& c : ev.target->columns) {
    if (t.ColumnIndex(c) >= 0) {
      return InputError(file_, ev.line,
                        absl::StrCat("data for ", name.Display(), " names column ",
                                     QuoteIdentifier(c), " twice"));
    }
    Column col;
    col.name = c;
    t.AddColumn(std::move(col));
  }
  UniqueKey key;
  key.name = "(its first column: the extension's key is not in the dump)";
  key.columns = {ev.target->columns[0]};
  key.primary = true;
  t.primary_key = std::move(key);
  Table* added = &catalog_->AddTable(std::move(t));
  tables_seen_ = catalog_->tables().size();
  return added;
}

absl::Status DataChecker::CheckDefaults(const DumpEvent& ev) {
  // pg_dump --inserts writes every column in table order with DEFAULT for
  // each stored generated column and for nothing else; a row of another
  // shape would put its values into the wrong columns.
  const std::vector<Column>& cols = block_table_->columns;
  const std::vector<int>& defaults = ev.target->defaults;
  const std::string table = block_table_->name.Display();
  for (int p : defaults) {
    if (p >= static_cast<int>(cols.size())) {
      return InputError(file_, ev.line,
                        absl::StrCat("INSERT into ", table, " has DEFAULT in value ",
                                     p + 1, ", the table has ", cols.size(),
                                     " columns"));
    }
    if (!cols[p].generated) {
      return InputError(
          file_, ev.line,
          absl::StrCat("INSERT into ", table, " has DEFAULT for column ",
                       QuoteIdentifier(cols[p].name),
                       ", which is not a generated column (pg_dump writes "
                       "DEFAULT only for stored generated columns)"));
    }
  }
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].generated &&
        std::find(defaults.begin(), defaults.end(), static_cast<int>(i)) ==
            defaults.end()) {
      return InputError(
          file_, ev.line,
          absl::StrCat("INSERT into ", table, " without a column list has no "
                       "DEFAULT for generated column ",
                       QuoteIdentifier(cols[i].name),
                       " (pg_dump --inserts writes DEFAULT there)"));
    }
  }
  return absl::OkStatus();
}

absl::Status DataChecker::Row(const DumpEvent& ev) {
  PGM_RETURN_IF_ERROR(Block(ev));
  if (!RowFitsWidth(ev.fields->size(),
                    ev.fields->empty() ? std::string_view() : (*ev.fields)[0],
                    block_width_)) {
    return InputError(file_, ev.line,
                      absl::StrCat("row for ", block_table_->name.Display(),
                                   " has ", ev.fields->size(),
                                   " values, the table has ", block_width_,
                                   " columns"));
  }
  ++block_table_->row_count;
  return absl::OkStatus();
}

absl::Status CheckPlainFormat(std::string_view input, const std::string& file_name) {
  switch (DetectDumpFormat(input)) {
    case DumpFormat::kCustom:
      return InputError(file_name, 1,
                        "a custom-format dump (pg_dump -Fc); convert it to "
                        "plain SQL first: pg_restore -f dump.sql " + file_name);
    case DumpFormat::kTar:
      return InputError(file_name, 1,
                        "a tar-format dump (pg_dump -Ft); convert it to plain "
                        "SQL first: pg_restore -f dump.sql " + file_name);
    case DumpFormat::kBinary:
      return InputError(file_name, 1,
                        "not a plain-format pg_dump file (binary data)");
    case DumpFormat::kPlain:
      break;
  }
  return absl::OkStatus();
}

// `name` with every "quoted identifier" quoted as QuoteIdentifier would.
std::string RequoteIdentifiers(std::string_view name) {
  std::string out, ident;
  for (size_t quote; (quote = name.find('"')) != std::string_view::npos;) {
    out.append(name.substr(0, quote));
    name.remove_prefix(quote);
    std::string_view rest = name;
    if (ConsumeIdentifier(&rest, &ident)) {
      out += QuoteIdentifier(ident);
    } else if (rest.size() == name.size()) {
      break;  // Not closed: the rest is kept as it is.
    } else {
      out.append(name.substr(0, name.size() - rest.size()));  // "" as it is.
    }
    name = rest;
  }
  out.append(name);
  return out;
}

// Adds the object a table-of-contents header names
// ("-- Name: X; Type: T; Schema: S; Owner: O"); other comments add nothing.
void AddObjectHeader(std::string_view c, std::vector<DumpObject>* objects) {
  // A table's data has its own header, "-- Data for Name: X; Type: TABLE
  // DATA; ...", also when the table holds no row.
  size_t name_at = 9;
  if (c.substr(0, 18) == "-- Data for Name: ") {
    name_at = 18;
  } else if (c.substr(0, 9) != "-- Name: ") {
    return;
  }
  size_t type = c.find("; Type: ");
  size_t schema = c.find("; Schema: ");
  size_t owner = c.find("; Owner: ");
  if (type == std::string_view::npos || schema == std::string_view::npos ||
      owner == std::string_view::npos || !(type < schema && schema < owner)) {
    return;
  }
  DumpObject o;
  if (type < name_at) return;
  o.name = std::string(c.substr(name_at, type - name_at));
  o.key = RequoteIdentifiers(o.name);
  // Statements that follow belong to it, until the next header.
  o.statements.reserve(1);
  o.type = std::string(c.substr(type + 8, schema - type - 8));
  o.schema = std::string(c.substr(schema + 10, owner - schema - 10));
  objects->push_back(std::move(o));
}

// Everything one read of a dump feeds, event by event.
struct Pass {
  Pass(std::string_view input, const std::string& file_name)
      : builder(file_name),
        data(&builder, file_name),
        large_objects(input, file_name),
        file_name_(file_name) {}
  absl::Status Take(const DumpEvent& ev);

  CatalogBuilder builder;
  DataChecker data;
  LargeObjectReader large_objects;
  std::vector<DumpObject> objects;
  bool saw_sql = false;
  std::string encoding;  // Its client_encoding, and where it is set.
  int64_t encoding_line = 0;
  const std::string file_name_;
};

absl::Status Pass::Take(const DumpEvent& ev) {
  switch (ev.kind) {
    case EventKind::kStatement: {
      saw_sql = true;
      if (std::string e = ClientEncodingOf(ev.text); !e.empty()) {
        // One encoding for the whole dump: its rows are read byte for byte.
        if (!encoding.empty() && e != encoding) {
          return InputError(file_name_, ev.line,
                            absl::StrCat("client_encoding changes from ", encoding, " (line ",
                                         encoding_line, ") to ", e,
                                         "; pg_dump writes one encoding per dump"));
        }
        encoding = e;
        encoding_line = ev.line;
      }
      PGM_ASSIGN_OR_RETURN(bool large_object, large_objects.Take(ev));
      if (!large_object) PGM_RETURN_IF_ERROR(builder.Statement(ev.text, ev.line));
      if (!objects.empty()) {
        objects.back().statements.emplace_back(ev.offset, ev.text.size());
        if (objects.back().line == 0) objects.back().line = ev.line;
      }
      return absl::OkStatus();
    }
    case EventKind::kRow:
      saw_sql = true;
      return data.Row(ev);
    case EventKind::kCopyStart:
      saw_sql = true;
      return data.Block(ev);
    case EventKind::kCopyEnd:
      data.AddSkippedRows(ev);
      return absl::OkStatus();
    case EventKind::kMeta:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Catalog> ReadCatalog(std::string_view input,
                                    const std::string& file_name,
                                    const MappedFile* file, bool check_rows) {
  PGM_RETURN_IF_ERROR(CheckPlainFormat(input, file_name));
  DumpReader reader(input, file_name);
  ReaderOptions options;
  options.skim_copy_data = !check_rows;
  reader.set_options(options);
  Pass pass(input, file_name);
  reader.set_comment_hook(
      [&pass](std::string_view c) { AddObjectHeader(c, &pass.objects); });
  PageReleaser releaser(file, 0);
  reader.set_progress([&releaser](size_t pos) { releaser.Advance(pos); });
  DumpEvent ev;
  for (;;) {
    PGM_ASSIGN_OR_RETURN(bool more, reader.Next(&ev));
    if (!more) break;
    releaser.Advance(reader.position());
    PGM_RETURN_IF_ERROR(pass.Take(ev));
  }
  if (!pass.saw_sql) {
    return InputError(file_name, 1,
                      "not a pg_dump file: it holds no SQL statement");
  }
  releaser.Finish(reader.position());
  PGM_RETURN_IF_ERROR(pass.builder.Finish());
  PGM_ASSIGN_OR_RETURN(std::vector<LargeObject> los, pass.large_objects.Finish());
  Catalog catalog = pass.builder.Take();
  catalog.set_large_objects(std::move(los));
  catalog.set_client_encoding(pass.encoding, pass.encoding_line);
  for (DumpObject& o : pass.objects) catalog.AddObject(std::move(o));
  return catalog;
}

}  // namespace pgmerge::parser
