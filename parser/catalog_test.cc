#include "parser/catalog.h"

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>

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
}

}  // namespace
}  // namespace pgmerge::parser
