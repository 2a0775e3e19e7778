#include "parser/catalog.h"

#include <dirent.h>

#include <chrono>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pgmerge::parser {
namespace {

constexpr char kDump[] = R"SQL(
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.users (id integer NOT NULL, email text NOT NULL, name text);
CREATE SEQUENCE public.users_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;
CREATE TABLE public.tags (id integer NOT NULL, name text);
ALTER TABLE public.tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tags_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1);
CREATE TABLE public.post_tags (post_id bigint NOT NULL, tag_id integer NOT NULL);
CREATE TABLE public.docs (id uuid NOT NULL, title text);
CREATE TABLE public.settings (key text NOT NULL, value text);
CREATE TABLE public.towns (id integer NOT NULL, code character varying(10) NOT NULL);
CREATE SEQUENCE public.towns_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE public.log (at timestamp(3) with time zone, what text);
CREATE TABLE public."Mixed Case" ("Id" bigint NOT NULL, "Gen" integer GENERATED ALWAYS AS (1) STORED);
CREATE TABLE public.pay (d date NOT NULL, id integer NOT NULL) PARTITION BY RANGE (d);
CREATE TABLE public.pay_2024 (d date NOT NULL, id integer NOT NULL);
CREATE TABLE public.parent (a integer, b text);
CREATE TABLE public.child (c integer) INHERITS (public.parent);
ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);
ALTER TABLE ONLY public.towns ALTER COLUMN id SET DEFAULT nextval('public.towns_id_seq'::regclass);
ALTER TABLE ONLY public.pay ATTACH PARTITION public.pay_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
COPY public.users (id, email, name) FROM stdin;
1	a@x	\N
2	b@x	B
\.
COPY public.tags (id, name) FROM stdin;
\.
INSERT INTO public.settings VALUES ('theme', 'dark');
INSERT INTO public."Mixed Case" ("Id") VALUES (1), (2), (3);
SELECT pg_catalog.setval('public.users_id_seq', 2, true);
SELECT pg_catalog.setval('public.tags_id_seq', 1, false);
ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE ONLY public.tags ADD CONSTRAINT tags_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.post_tags ADD CONSTRAINT post_tags_pkey PRIMARY KEY (post_id, tag_id);
ALTER TABLE ONLY public.docs ADD CONSTRAINT docs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.settings ADD CONSTRAINT settings_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.towns ADD CONSTRAINT towns_id_key UNIQUE (id);
ALTER TABLE ONLY public.towns ADD CONSTRAINT towns_code_key UNIQUE (code);
CREATE UNIQUE INDEX users_lower_name ON public.users USING btree (lower(name));
CREATE UNIQUE INDEX users_name_partial ON public.users USING btree (name) WHERE (name IS NOT NULL);
ALTER TABLE ONLY public.post_tags ADD CONSTRAINT post_tags_tag_fkey FOREIGN KEY (tag_id) REFERENCES public.tags(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE ONLY public.log ADD CONSTRAINT log_fk FOREIGN KEY (what, at) REFERENCES public.x(a, b);
ALTER TABLE ONLY public.settings ADD CONSTRAINT settings_town_fkey FOREIGN KEY (value) REFERENCES public.towns(code);
)SQL";

TEST(CatalogTest, ReadsKeysForeignKeysSequencesAndCounts) {
  absl::StatusOr<Catalog> c = ReadCatalog(kDump, "t.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  auto table = [&](const std::string& s, const std::string& n) {
    const Table* t = c->FindTable(TableName{s, n});
    EXPECT_NE(t, nullptr) << n;
    return t;
  };
  const Table* users = table("public", "users");
  EXPECT_EQ(users->row_count, 2);
  EXPECT_EQ(users->key_kind(), KeyKind::kSerial);
  EXPECT_EQ(users->columns[0].sequence, "public.users_id_seq");
  EXPECT_TRUE(users->columns[0].not_null);
  ASSERT_EQ(users->unique_keys.size(), 3u);
  EXPECT_TRUE(users->unique_keys[1].has_expressions);
  EXPECT_TRUE(users->unique_keys[2].partial);
  EXPECT_EQ(table("public", "tags")->key_kind(), KeyKind::kIdentity);
  EXPECT_EQ(table("public", "tags")->columns[0].identity, Identity::kAlways);
  EXPECT_EQ(table("public", "post_tags")->key_kind(), KeyKind::kComposite);
  EXPECT_EQ(table("public", "docs")->key_kind(), KeyKind::kUuid);
  EXPECT_EQ(table("public", "settings")->key_kind(), KeyKind::kText);
  EXPECT_EQ(table("public", "settings")->row_count, 1);
  // No primary key, but `id serial UNIQUE`: keyed on it.
  const Table* towns = table("public", "towns");
  ASSERT_NE(towns->MergeKey(), nullptr);
  EXPECT_EQ(towns->MergeKey()->columns, std::vector<std::string>{"id"});
  EXPECT_EQ(towns->key_kind(), KeyKind::kSerial);
  EXPECT_EQ(table("public", "log")->key_kind(), KeyKind::kNone);
  EXPECT_EQ(table("public", "log")->columns[0].type, "timestamp(3) with time zone");
  const Table* mixed = table("public", "Mixed Case");
  EXPECT_EQ(mixed->row_count, 3);
  EXPECT_TRUE(mixed->columns[1].generated);
  EXPECT_EQ(mixed->name.Display(), "public.\"Mixed Case\"");
  EXPECT_TRUE(table("public", "pay")->partitioned);
  ASSERT_TRUE(table("public", "pay_2024")->partition_of.has_value());
  EXPECT_EQ(table("public", "pay_2024")->partition_of->name, "pay");
  const Table* child = table("public", "child");
  ASSERT_EQ(child->columns.size(), 3u);  // Parent's columns first.
  EXPECT_EQ(child->columns[0].name, "a");
  EXPECT_EQ(child->inherits[0].name, "parent");

  const ForeignKey& fk = table("public", "post_tags")->foreign_keys[0];
  EXPECT_EQ(fk.columns, std::vector<std::string>{"tag_id"});
  EXPECT_EQ(fk.ref_table.name, "tags");
  EXPECT_EQ(fk.on_delete, 'c');
  EXPECT_TRUE(fk.deferrable);
  EXPECT_TRUE(fk.initially_deferred);
  EXPECT_EQ(table("public", "log")->foreign_keys[0].columns,
            (std::vector<std::string>{"what", "at"}));
  EXPECT_EQ(table("public", "settings")->foreign_keys[0].ref_columns,
            std::vector<std::string>{"code"});

  const Sequence* seq = c->FindSequence(TableName{"public", "users_id_seq"});
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(seq->last_value, 2);
  EXPECT_TRUE(seq->is_called);
  EXPECT_EQ(seq->owned_by_column, "id");
  const Sequence* ident = c->FindSequence(TableName{"public", "tags_id_seq"});
  ASSERT_NE(ident, nullptr);
  EXPECT_TRUE(ident->identity);
  EXPECT_FALSE(ident->is_called);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The COPY and INSERT forms of the same shared dataset give one catalog.
TEST(CatalogTest, SharedDumpsAgreeAcrossForms) {
  const std::string root = PGMERGE_SHARED_TESTDATA;
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"pagila/pagila.dump.sql", "pagila/pagila.inserts100.dump.sql"},
      {"northwind/northwind.dump.sql", "northwind/northwind.inserts.dump.sql"},
      {"chinook/chinook_serial.dump.sql", "chinook/chinook_serial.column-inserts.dump.sql"}};
  for (const auto& [copy, inserts] : pairs) {
    std::string a = Slurp(root + "/" + copy), b = Slurp(root + "/" + inserts);
    absl::StatusOr<Catalog> ca = ReadCatalog(a, copy);
    absl::StatusOr<Catalog> cb = ReadCatalog(b, inserts);
    absl::StatusOr<Catalog> skimmed = ReadCatalog(a, copy, nullptr, /*check_rows=*/false);
    ASSERT_TRUE(ca.ok()) << ca.status();
    ASSERT_TRUE(cb.ok()) << cb.status();
    ASSERT_TRUE(skimmed.ok()) << skimmed.status();
    for (const Table& t : ca->tables()) {
      EXPECT_EQ(t.row_count, skimmed->FindTable(t.name)->row_count) << t.name.Display();
    }
    ASSERT_EQ(ca->tables().size(), cb->tables().size());
    for (const Table& t : ca->tables()) {
      const Table* u = cb->FindTable(t.name);
      ASSERT_NE(u, nullptr) << t.name.Display();
      EXPECT_EQ(t.row_count, u->row_count) << t.name.Display();
      EXPECT_EQ(t.key_kind(), u->key_kind()) << t.name.Display();
    }
  }
}

TEST(CatalogTest, BadInput) {
  auto error = [](const std::string& dump) {
    absl::StatusOr<Catalog> c = ReadCatalog(dump, "bad.sql");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  EXPECT_EQ(error("CREATE TABLE public.t (a int);\nINSERT INTO public.u VALUES (1);\n"),
            "bad.sql:2: table public.u is not created earlier in the dump");
  EXPECT_EQ(error("CREATE TABLE public.t (a int);\nINSERT INTO public.t VALUES (1, 2);\n"),
            "bad.sql:2: row for public.t has 2 values, the table has 1 columns");
  EXPECT_EQ(error("CREATE TABLE public.t (a int);\nCOPY public.t (b) FROM stdin;\n\\.\n"),
            "bad.sql:2: data names column b, which table public.t does not have");
  EXPECT_EQ(error("  \n-- just a comment\n"),
            "bad.sql:1: not a pg_dump file: it holds no SQL statement");
  EXPECT_EQ(error("SELECT pg_catalog.setval('public.nope', 1, true);\n"),
            "bad.sql:1: setval of sequence public.nope, which the dump does not create");
  // An INSERT is data whatever follows its first word: one of a shape the
  // fast reader does not know is refused, never kept as a schema statement.
  for (const char* insert : {"INSERT /**/INTO public.t VALUES (1);\n",
                             "INSERT/**/INTO public.t VALUES (1);\n"}) {
    EXPECT_EQ(error(absl::StrCat("CREATE TABLE public.t (a int);\n", insert)),
              "bad.sql:2: INSERT is not of the form pg_dump writes (--inserts, "
              "--column-inserts, --rows-per-insert); rewrite it as COPY or plain "
              "literal VALUES");
  }
}

// Objects of PostgreSQL's regression database that a plain catalog missed.
TEST(CatalogTest, TypedTablesTakeTheirTypesColumns) {
  absl::StatusOr<Catalog> c = ReadCatalog(R"SQL(
CREATE TYPE public.person_type AS (
	id integer,
	name text
);
CREATE TABLE public.persons OF public.person_type;
CREATE TABLE public.persons3 OF public.person_type (
    id NOT NULL,
    name DEFAULT ''::text NOT NULL
);
COPY public.persons (id, name) FROM stdin;
1	a
\.
ALTER TABLE ONLY public.persons3 ADD CONSTRAINT persons3_pkey PRIMARY KEY (id);
)SQL", "t.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  const Table* persons = c->FindTable(TableName{"public", "persons"});
  ASSERT_NE(persons, nullptr);
  ASSERT_EQ(persons->columns.size(), 2u);
  EXPECT_EQ(persons->columns[0].name, "id");
  EXPECT_EQ(persons->columns[0].type_name, "int4");
  EXPECT_EQ(persons->columns[1].type, "text");
  EXPECT_EQ(persons->row_count, 1);
  ASSERT_TRUE(persons->of_type.has_value());
  EXPECT_EQ(persons->of_type->name, "person_type");
  const Table* p3 = c->FindTable(TableName{"public", "persons3"});
  ASSERT_EQ(p3->columns.size(), 2u);
  EXPECT_TRUE(p3->columns[0].not_null);
  EXPECT_EQ(p3->columns[1].type, "text");
  EXPECT_EQ(p3->columns[1].default_constant, "");
  EXPECT_EQ(p3->key_kind(), KeyKind::kInteger);

  absl::StatusOr<Catalog> bad =
      ReadCatalog("CREATE TABLE public.t OF public.nope;\n", "bad.sql");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "bad.sql:1: table public.t is of type public.nope, which is not "
            "created earlier in the dump as a composite type");
}

// Every column dropped, rows kept: COPY writes each row as an empty line.
TEST(CatalogTest, TablesWithNoColumnsKeepTheirRows) {
  absl::StatusOr<Catalog> c = ReadCatalog(
      "CREATE TABLE public.t (\n);\nCOPY public.t  FROM stdin;\n\n\n\\.\n", "t.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  const Table* t = c->FindTable(TableName{"public", "t"});
  EXPECT_TRUE(t->columns.empty());
  EXPECT_EQ(t->row_count, 2);
  // A row with a value is still refused.
  absl::StatusOr<Catalog> bad = ReadCatalog(
      "CREATE TABLE public.t (\n);\nCOPY public.t  FROM stdin;\nx\n\\.\n", "bad.sql");
  EXPECT_FALSE(bad.ok());
}

// pg_dump before 15.4 broke a view's dependency loop with a table turned
// into the view by its "_RETURN" rule: a table with no rows of its own.
TEST(CatalogTest, ATableMadeAViewByItsReturnRule) {
  absl::StatusOr<Catalog> c = ReadCatalog(
      "CREATE TABLE public.v (\n    a integer\n);\n"
      "CREATE RULE \"_RETURN\" AS\n    ON SELECT TO public.v DO INSTEAD  SELECT 1 AS a;\n",
      "v.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  const Table* v = c->FindTable(TableName{"public", "v"});
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->view);
  EXPECT_FALSE(v->has_data);
}

TEST(CatalogTest, GeneratedColumnsInKeys) {
  absl::StatusOr<Catalog> c = ReadCatalog(R"SQL(
CREATE TABLE public.g (
    a integer NOT NULL,
    c integer,
    b integer GENERATED ALWAYS AS ((a * 2) + c) STORED,
    t boolean GENERATED ALWAYS AS ((tableoid = ('public.g'::regclass)::oid)) STORED
);
CREATE SEQUENCE public.g_a_seq;
ALTER TABLE ONLY public.g ALTER COLUMN a SET DEFAULT nextval('public.g_a_seq'::regclass);
COPY public.g (a, c) FROM stdin;
1	2
\.
ALTER TABLE ONLY public.g ADD CONSTRAINT g_pkey PRIMARY KEY (a, b);
ALTER TABLE ONLY public.g ADD CONSTRAINT g_b_key UNIQUE (b);
ALTER TABLE ONLY public.g ADD CONSTRAINT g_c_key UNIQUE (c);
)SQL", "t.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  const Table* g = c->FindTable(TableName{"public", "g"});
  EXPECT_EQ(g->columns[2].generated_from, (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(g->columns[3].generated_from.empty());  // tableoid: no column.
  ASSERT_TRUE(g->primary_key.has_value());
  EXPECT_TRUE(g->primary_key->has_generated);
  EXPECT_TRUE(g->unique_keys[0].has_generated);
  EXPECT_FALSE(g->unique_keys[1].has_generated);
  EXPECT_EQ(g->key_kind(), KeyKind::kComposite);
}

TEST(CatalogTest, SequencesWithDirectionBoundsAndNegativeValues) {
  absl::StatusOr<Catalog> c = ReadCatalog(R"SQL(
CREATE SEQUENCE public.down START WITH -1 INCREMENT BY -1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE public.neg AS integer START WITH -5 INCREMENT BY 1 MINVALUE -10 NO MAXVALUE CACHE 1 CYCLE;
CREATE SEQUENCE public.small AS smallint START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE public.plain;
CREATE SEQUENCE public.odd INCREMENT BY -3 MAXVALUE -2;
CREATE TABLE public.t (id integer NOT NULL, d integer DEFAULT '-7'::integer, CHECK (d > -9));
ALTER TABLE public.t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.t_id_seq START WITH -100 INCREMENT BY -2 MINVALUE -1000 MAXVALUE -100 CACHE 1);
SELECT pg_catalog.setval('public.down', -1, true);
SELECT pg_catalog.setval('public.neg', -5, false);
SELECT pg_catalog.setval('public.t_id_seq', -9223372036854775808, true);
)SQL", "t.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  auto seq = [&](const std::string& n) {
    const Sequence* s = c->FindSequence(TableName{"public", n});
    EXPECT_NE(s, nullptr) << n;
    return s;
  };
  const Sequence* down = seq("down");
  EXPECT_EQ(down->increment, -1);
  EXPECT_EQ(down->start, -1);
  EXPECT_EQ(down->MinValue(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(down->MaxValue(), -1);
  EXPECT_EQ(down->last_value, -1);
  EXPECT_TRUE(down->is_called);
  const Sequence* neg = seq("neg");
  EXPECT_EQ(neg->start, -5);
  EXPECT_EQ(neg->MinValue(), -10);
  EXPECT_EQ(neg->MaxValue(), std::numeric_limits<int32_t>::max());
  EXPECT_TRUE(neg->cycle);
  EXPECT_EQ(neg->last_value, -5);
  EXPECT_FALSE(neg->is_called);
  EXPECT_EQ(seq("small")->MaxValue(), 32767);
  EXPECT_EQ(seq("plain")->start, 1);
  EXPECT_FALSE(seq("plain")->cycle);
  EXPECT_EQ(seq("odd")->start, -2);  // Descending: starts at MAXVALUE.
  EXPECT_EQ(seq("odd")->increment, -3);
  const Sequence* ident = seq("t_id_seq");
  EXPECT_EQ(ident->start, -100);
  EXPECT_EQ(ident->increment, -2);
  EXPECT_EQ(ident->MinValue(), -1000);
  EXPECT_EQ(ident->MaxValue(), -100);
  EXPECT_EQ(ident->last_value, std::numeric_limits<int64_t>::min());
  const Table* t = c->FindTable(TableName{"public", "t"});
  EXPECT_EQ(t->columns[1].default_constant, "-7");
  ASSERT_EQ(t->checks.size(), 1u);
  ASSERT_TRUE(t->checks[0].simple);
  EXPECT_EQ(t->checks[0].comparisons[0].value, -9);
}

// PostgreSQL allows 1,600 columns; wider tables are refused at once, not
// after minutes of per-column work.
TEST(CatalogTest, RefusesMoreColumnsThanPostgresAllows) {
  auto table = [](int n) {
    std::string sql = "CREATE TABLE public.wide (";
    for (int i = 0; i < n; ++i) absl::StrAppend(&sql, i ? ", " : "", "c", i, " integer");
    return sql + ");\n";
  };
  std::string ok = table(1600);
  std::string copy = "COPY public.wide (";
  for (int i = 1599; i >= 0; --i) absl::StrAppend(&copy, i < 1599 ? ", " : "", "c", i);
  absl::StrAppend(&ok, copy, ") FROM stdin;\n\\.\n");
  absl::StatusOr<Catalog> c = ReadCatalog(ok, "t.sql");
  ASSERT_TRUE(c.ok()) << c.status();
  const Table* wide = c->FindTable(TableName{"public", "wide"});
  EXPECT_EQ(wide->ColumnIndex("c1234"), 1234);
  EXPECT_EQ(wide->ColumnIndex("nope"), -1);

  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Catalog> bad = ReadCatalog(table(100000), "wide.sql");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "wide.sql:1: table public.wide has more than 1600 columns, "
            "PostgreSQL's limit");
  EXPECT_LT(seconds, 60);  // Minutes before: a linear lookup per column.
}

}  // namespace
}  // namespace pgmerge::parser
