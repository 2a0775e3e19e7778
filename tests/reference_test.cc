// References no foreign key declares, and a partitioned table's keys and
// foreign keys. An application schema without foreign keys (Rails before
// 4.2, Django's db_constraint=False, an app moved from MyISAM) still means
// comments.post_id to name a post: a development row's value must follow
// its post when the post is remapped, or it names production's post with
// the old key. Each case builds a base, production and development in a
// real PostgreSQL, merges the dumps, restores, and checks every row by
// what its references name: each row's referenced rows' content, on its
// own side, must be what the shadow's references lead to.
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

using Json = nlohmann::json;

// No foreign key anywhere; the references are in the names.
constexpr char kSchema[] = R"sql(
CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, stripe_customer_id bigint);
CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint, title text NOT NULL,
                    editor_user_id bigint, tag_ids integer[]);
CREATE TABLE comments (id bigserial PRIMARY KEY, post_id bigint NOT NULL, user_id bigint,
                       parent_id bigint, body text NOT NULL);
CREATE TABLE categories (id serial PRIMARY KEY, parent_id integer, name text NOT NULL);
CREATE TABLE blog_tags (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE post_tags (post_id bigint, tag_id integer, PRIMARY KEY (post_id, tag_id));
CREATE TABLE profiles (user_id bigint PRIMARY KEY, bio text NOT NULL);
CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE people_notes (person_id integer, note text NOT NULL);
CREATE TABLE articles (id serial PRIMARY KEY, "authorId" integer, title text NOT NULL);
CREATE TABLE notes (id serial PRIMARY KEY, notable_id integer, notable_type text,
                    body text NOT NULL);
)sql";

// Rows a side adds, `tag` telling the sides apart. New rows point at the
// fork's rows and at the side's own new ones; some copy a fork row's
// content (a new user named as an old one), so content alone does not
// tell rows apart. Two-way, each new row differs from the other side's
// row at its key in every column: no edit explains it.
std::string SideRows(const std::string& tag, int users, int posts) {
  std::string sql = absl::StrCat(
      "INSERT INTO users (name) SELECT '", tag, " user ' || g FROM generate_series(1, ", users,
      ") g;"
      "INSERT INTO users (name) VALUES ('base user 3');"  // A copy of a fork row's name.
      "INSERT INTO people (name) SELECT '", tag, " person ' || g FROM generate_series(1, 3) g;");
  // Each new post by a new user, or (every third) by a fork user, tagged
  // with the side's last new tag. (Two-way, join rows identical on both
  // sides are proof of the fork: new posts of both sides tagged alike
  // would be taken for one post edited, which only --base tells apart.)
  absl::StrAppend(
      &sql, "INSERT INTO posts (user_id, title) SELECT CASE WHEN g % 3 = 0 THEN (g + ",
      tag.size(), ") % 5 + 1 ELSE ",
      "(SELECT max(id) FROM users) - (g % ", users, ") END, '", tag,
      " post ' || g FROM generate_series(1, ", posts, ") g;");
  absl::StrAppend(
      &sql,
      "INSERT INTO comments (post_id, user_id, body) SELECT (SELECT max(id) FROM posts) - g % 4, "
      "(SELECT min(id) FROM users WHERE name LIKE '", tag, " user %') + g % 2, '", tag,
      " comment ' || g FROM generate_series(1, 6) g;",
      // Replies: to the side's own new comments, and to a fork comment.
      "INSERT INTO comments (post_id, user_id, parent_id, body) SELECT c.post_id, 1, c.id, '", tag,
      " reply to ' || c.body FROM comments c WHERE c.body LIKE '", tag, " comment %' OR c.id = 2;",
      "INSERT INTO categories (parent_id, name) VALUES (2, '", tag, " cat a');",
      "INSERT INTO categories (parent_id, name) SELECT max(id), '", tag,
      " cat b' FROM categories;",
      "INSERT INTO blog_tags (name) SELECT '", tag, " tag ' || g FROM generate_series(1, ",
      tag.size() - 2, ") g;",
      "INSERT INTO post_tags SELECT p.id, (SELECT max(id) FROM blog_tags) FROM posts p "
      "WHERE p.title LIKE '", tag, " post %';",
      // An array of keys, which no foreign key can declare.
      "UPDATE posts SET tag_ids = ARRAY[1, (SELECT max(id) FROM blog_tags), NULL] "
      "WHERE title LIKE '", tag, " post %';",
      // Bounds and two dimensions, as PostgreSQL writes them.
      "UPDATE posts SET tag_ids = ('[0:2]={1,' || (SELECT max(id) FROM blog_tags) || ',NULL}')"
      "::integer[] WHERE title = '", tag, " post 1';",
      "UPDATE posts SET tag_ids = ('{{1,' || (SELECT max(id) FROM blog_tags) || '},{' || "
      "(SELECT max(id) FROM blog_tags) || ',2}}')::integer[] WHERE title = '", tag, " post 2';",
      "INSERT INTO profiles SELECT id, 'bio of ' || name FROM users WHERE name LIKE '", tag,
      " user %';",
      "INSERT INTO people_notes SELECT id, 'note on ' || name FROM people WHERE name LIKE '", tag,
      " person %';",
      "INSERT INTO articles (\"authorId\", title) SELECT min(id), '", tag,
      " article' FROM users WHERE name LIKE '", tag, " user %';",
      // Polymorphic, as Rails makes them: the type names the table.
      "INSERT INTO notes (notable_id, notable_type, body) SELECT min(id), 'Post', '", tag,
      " note on a post' FROM posts WHERE title LIKE '", tag, " post %';",
      "INSERT INTO notes (notable_id, notable_type, body) SELECT min(id), 'User', '", tag,
      " note on a user' FROM users WHERE name LIKE '", tag, " user %';",
      "INSERT INTO notes (notable_id, notable_type, body) VALUES (7, 'Legacy::Thing', '", tag,
      " note on a thing');");
  return sql;
}

// The fork both sides start from.
std::string BaseRows() {
  return absl::StrCat(kSchema, SideRows("base", 5, 6));
}

// Each table's rows as what their references name (content, not keys).
const std::vector<std::pair<std::string, std::string>>& ByContent() {
  static const auto* queries = new std::vector<std::pair<std::string, std::string>>{
      {"posts", "SELECT p.title, u.name FROM posts p LEFT JOIN users u ON u.id = p.user_id"},
      {"comments",
       "SELECT c.body, p.title, u.name, pc.body FROM comments c "
       "LEFT JOIN posts p ON p.id = c.post_id LEFT JOIN users u ON u.id = c.user_id "
       "LEFT JOIN comments pc ON pc.id = c.parent_id"},
      {"categories",
       "SELECT c.name, pc.name FROM categories c LEFT JOIN categories pc ON pc.id = c.parent_id"},
      {"posts.tag_ids",
       "SELECT p.title, (SELECT string_agg(coalesce(t.name, '?'), ',' ORDER BY t.name) "
       "FROM unnest(p.tag_ids) u (id) LEFT JOIN blog_tags t ON t.id = u.id) FROM posts p"},
      {"post_tags",
       "SELECT p.title, t.name FROM post_tags pt LEFT JOIN posts p ON p.id = pt.post_id "
       "LEFT JOIN blog_tags t ON t.id = pt.tag_id"},
      {"profiles", "SELECT u.name, pr.bio FROM profiles pr LEFT JOIN users u ON u.id = pr.user_id"},
      {"people_notes",
       "SELECT p.name, n.note FROM people_notes n LEFT JOIN people p ON p.id = n.person_id"},
      {"articles",
       "SELECT a.title, u.name FROM articles a LEFT JOIN users u ON u.id = a.\"authorId\""},
      {"notes",
       "SELECT n.body, n.notable_type, coalesce(p.title, u.name, n.notable_id::text) FROM notes n "
       "LEFT JOIN posts p ON n.notable_type = 'Post' AND p.id = n.notable_id "
       "LEFT JOIN users u ON n.notable_type = 'User' AND u.id = n.notable_id"},
  };
  return *queries;
}

std::vector<std::string> Lines(const Rows& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const Cell& c : row) cells.push_back(c ? *c : "NULL");
    out.push_back(absl::StrJoin(cells, " | "));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A report's unlinked_columns holding one column.
Json Unlinked(const std::string& column, const std::string& why) {
  return Json::array({{{"column", column}, {"why", why}}});
}

class ReferenceTest : public MergeFixture {
 protected:
  void SetUp() override {
    MergeFixture::SetUp();
    base_db_ = MakeDb("base", {BaseRows()});
    prod_db_ = MakeDb("prod", {BaseRows(), SideRows("prod", 4, 5)});
    dev_db_ = MakeDb("dev", {BaseRows(), SideRows("dev", 6, 7)});
    base_dump_ = DumpDb(base_db_, {});
    prod_dump_ = DumpDb(prod_db_, {});
    dev_dump_ = DumpDb(dev_db_, {});
  }

  std::vector<std::string> Content(const std::string& db, const std::string& query) {
    absl::StatusOr<Rows> rows = pg_->Query(db, query);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? Lines(*rows) : std::vector<std::string>{};
  }

  // Every table of ByContent in the shadow is production's rows and
  // development's new ones (what it has beyond the fork), each naming
  // through its references what it named on its own side.
  void ExpectEveryReferenceNamesItsOwnSidesRow() {
    for (const auto& [table, query] : ByContent()) {
      std::vector<std::string> expected = Content(prod_db_, query);
      std::vector<std::string> dev = Content(dev_db_, query), base = Content(base_db_, query);
      std::vector<std::string> dev_new;
      std::set_difference(dev.begin(), dev.end(), base.begin(), base.end(),
                          std::back_inserter(dev_new));
      expected.insert(expected.end(), dev_new.begin(), dev_new.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(Content(last_shadow_, query), expected) << table;
    }
  }

  void ExpectVerified(const MergeRun& run) {
    absl::StatusOr<CommandResult> v =
        RunCommand({PGMERGE_BINARY, "verify", "--db", pg_->ConnString(last_shadow_), "--report",
                    run.sql_file + ".json"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->exit_code, 0) << v->err << v->out;
  }

  static const Json& TableIn(const Json& report, const std::string& table) {
    for (const Json& t : report["tables"]) {
      if (t["table"] == table) return t;
    }
    static const Json* none = new Json();
    return *none;
  }

  std::string base_db_, prod_db_, dev_db_, base_dump_, prod_dump_, dev_dump_;
};

// Two-way and three-way: every reference the names tell is followed, the
// one --reference declares too; the report says which, by what, and how
// many values moved; what it could not tell is listed, not guessed.
TEST_F(ReferenceTest, ReferencesNamedLikeTablesFollowRemappedKeys) {
  const std::vector<std::string> declared = {"--reference", "articles.authorId=users"};
  for (bool three_way : {false, true}) {
    SCOPED_TRACE(three_way ? "three-way" : "two-way");
    std::vector<std::string> extra = declared;
    if (three_way) extra.insert(extra.end(), {"--base", base_dump_});
    const std::string review = absl::StrCat(pg_->tmp_dir(), "/", Name("review"), ".md");
    extra.insert(extra.end(), {"--review", review});
    MergeAndCheckWith(prod_dump_, dev_dump_, extra, [&](const MergeRun& run) {
      ExpectEveryReferenceNamesItsOwnSidesRow();
      ExpectVerified(run);
      const Json report = Json::parse(run.report);
      EXPECT_GT(TableIn(report, "public.users")["counts"]["remapped"].get<int>(), 0);
      auto by = [&](const std::string& table, const std::string& column) -> Json {
        for (const Json& r : TableIn(report, table)["references"]) {
          if (r["column"] == column) return r;
        }
        return Json();
      };
      const std::string name = "its name (no foreign key declares it)";
      for (const auto& [table, column, parent] :
           std::vector<std::tuple<std::string, std::string, std::string>>{
               {"public.posts", "user_id", "public.users"},
               {"public.comments", "post_id", "public.posts"},
               {"public.comments", "user_id", "public.users"},
               {"public.comments", "parent_id", "public.comments"},
               {"public.categories", "parent_id", "public.categories"},
               {"public.post_tags", "post_id", "public.posts"},
               {"public.post_tags", "tag_id", "public.blog_tags"},
               {"public.profiles", "user_id", "public.users"},
               {"public.people_notes", "person_id", "public.people"},
               {"public.posts", "tag_ids", "public.blog_tags"}}) {
        const Json r = by(table, column);
        EXPECT_EQ(r["references"], parent) << table << "." << column;
        EXPECT_EQ(r["by"], column == "tag_ids"
                               ? "its name (an array of keys no foreign key can declare)"
                               : name)
            << table << "." << column;
        EXPECT_GT(r["rewritten"].get<int>(), 0) << table << "." << column;
        EXPECT_NE(run.err.find(absl::StrCat("column ", column, " followed as a reference to ",
                                            parent)),
                  std::string::npos)
            << run.err;
      }
      EXPECT_EQ(by("public.articles", "authorId")["by"], "--reference");
      EXPECT_GT(by("public.articles", "authorId")["rewritten"].get<int>(), 0);
      // Not told by the names: listed, with why, and in the summary.
      EXPECT_EQ(TableIn(report, "public.posts")["unlinked_columns"],
                Unlinked("editor_user_id",
                         "no table whose keys the merge remaps is named for it; the end of "
                         "its name names public.users"));
      EXPECT_EQ(TableIn(report, "public.users")["unlinked_columns"],
                Unlinked("stripe_customer_id",
                         "no table whose keys the merge remaps is named for it"));
      for (const char* type : {"Post", "User"}) {
        bool found = false;
        for (const Json& e : TableIn(report, "public.notes")["references"]) {
          if (e["by"] != absl::StrCat("polymorphic: notable_type = '", type, "'")) continue;
          found = true;
          EXPECT_EQ(e["references"], type == std::string("Post") ? "public.posts" : "public.users");
          EXPECT_GT(e["rewritten"].get<int>(), 0) << type;
        }
        EXPECT_TRUE(found) << type;
      }
      EXPECT_EQ(TableIn(report, "public.notes")["unlinked_columns"],
                Unlinked("notable_id",
                         "polymorphic: notable_type 'Legacy::Thing', on 1 development rows "
                         "written, names no table whose keys the merge remaps"));
      EXPECT_NE(run.err.find("column notable_id named like a reference, not followed"),
                std::string::npos)
          << run.err;
      // And for the person who reviews the merge.
      const std::string md = ReadFile(review);
      for (const char* line :
           {"## References no foreign key declares\n",
            "- public.posts.user_id → public.users, followed by its name (no foreign key "
            "declares it): ",
            "- public.articles.authorId → public.users, followed by --reference: ",
            "- public.notes.notable_id → public.posts, followed by polymorphic: notable_type = "
            "'Post': ",
            "- public.notes.notable_id: **not followed**: polymorphic: notable_type "
            "'Legacy::Thing', on 1 development rows written, names no table whose keys the "
            "merge remaps; development's values are as written"}) {
        EXPECT_NE(md.find(line), std::string::npos) << line << "\n" << md;
      }
    });
  }
}

// --no-reference: a column named like a reference that is not one keeps
// development's values as they were written.
TEST_F(ReferenceTest, NoReferenceKeepsDevelopmentsValues) {
  MergeAndCheckWith(prod_dump_, dev_dump_, {"--no-reference", "public.comments.user_id"},
                    [&](const MergeRun& run) {
    const std::string q = "SELECT body, user_id FROM comments WHERE body LIKE 'dev %'";
    EXPECT_EQ(Content(last_shadow_, q), Content(dev_db_, q));
    const Json report = Json::parse(run.report);
    for (const Json& r : TableIn(report, "public.comments")["references"]) {
      EXPECT_NE(r["column"], "user_id");
    }
    ExpectVerified(run);
  });
}

// Flags that name nothing to follow are refused before any SQL, each with
// what is wrong.
TEST_F(ReferenceTest, BadReferenceFlagsRefused) {
  for (const auto& [flags, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--reference", "nosuch.user_id=users"},
            "--reference nosuch.user_id=users: development's schema has no table nosuch"},
           {{"--reference", "posts.nosuch=users"}, "public.posts has no column nosuch"},
           {{"--reference", "posts.user_id=nosuch"}, "development's schema has no table nosuch"},
           {{"--reference", "posts.user_id=users.name"},
            "a reference names a row by its table's key, and public.users's is id"},
           {{"--reference", "posts.title=users"}, "title is text, and public.users's key is"},
           {{"--reference", "post_tags.post_id=post_tags"}, "public.post_tags has no one-column"},
           {{"--no-reference", "posts.title"}, "--no-reference posts.title: not a column"},
           {{"--reference", "posts.user_id"}, "--reference takes TABLE.COLUMN=PARENT"},
           {{"--reference", "posts.user_id=users", "--no-reference", "posts.user_id"},
            "named twice, or with --reference too"}}) {
    MergeRun run = RunMerge(prod_dump_, dev_dump_, flags);
    EXPECT_NE(run.exit_code, 0) << absl::StrJoin(flags, " ");
    EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
    EXPECT_EQ(ReadFile(run.sql_file), "") << absl::StrJoin(flags, " ");
  }
}

// A partitioned table: pg_dump writes its foreign key once, on it, and its
// rows are in the partitions, which draw one key space from one sequence.
// Two levels of partitions. Both sides made order 3, in different
// partitions: development's moves, and its buyer (a column no name tells)
// follows its remapped buyer.
TEST_F(ReferenceTest, PartitionsShareOneKeySpaceAndTheirTablesForeignKeys) {
  const std::string tree = R"sql(
    CREATE TABLE buyers (id serial PRIMARY KEY, name text NOT NULL);
    CREATE TABLE orders (id serial, buyer integer NOT NULL REFERENCES buyers (id),
                         region integer NOT NULL, note text, PRIMARY KEY (id, region))
      PARTITION BY LIST (region);
    CREATE TABLE orders_1 PARTITION OF orders FOR VALUES IN (1);
    CREATE TABLE orders_2 PARTITION OF orders FOR VALUES IN (2, 3) PARTITION BY LIST (region);
    CREATE TABLE orders_2a PARTITION OF orders_2 FOR VALUES IN (2);
    CREATE TABLE orders_2b PARTITION OF orders_2 FOR VALUES IN (3);
    CREATE TABLE order_notes (id serial PRIMARY KEY, order_id integer NOT NULL,
                              region integer NOT NULL, note text NOT NULL,
                              FOREIGN KEY (order_id, region) REFERENCES orders (id, region));
    INSERT INTO buyers (name) VALUES ('ann'), ('bob');
    INSERT INTO orders (buyer, region, note) VALUES (1, 1, 'a1'), (2, 2, 'b2'), (2, 3, 'b3');
  )sql";
  // Each side notes its new orders: a foreign key to the partitioned table.
  const std::string notes =
      "INSERT INTO order_notes (order_id, region, note) SELECT id, region, 'about ' || note "
      "FROM orders ORDER BY id, region;";
  base_db_ = MakeDb("base", {tree});
  prod_db_ = MakeDb("prod", {tree, "INSERT INTO buyers (name) VALUES ('carol');"
                                   "INSERT INTO orders (buyer, region, note) VALUES "
                                   "(3, 1, 'by carol'), (3, 3, 'carol again');",
                           notes});
  dev_db_ = MakeDb("dev", {tree, "INSERT INTO buyers (name) VALUES ('dave'), ('erin');"
                                 "INSERT INTO orders (buyer, region, note) VALUES "
                                 "(3, 2, 'by dave'), (4, 3, 'by erin'), (3, 1, 'dave again');",
                         notes});
  prod_dump_ = DumpDb(prod_db_, {});
  dev_dump_ = DumpDb(dev_db_, {});
  base_dump_ = DumpDb(base_db_, {});
  const std::string q =
      "SELECT o.note, o.region, b.name FROM orders o JOIN buyers b ON b.id = o.buyer";
  for (bool three_way : {false, true}) {
    SCOPED_TRACE(three_way ? "three-way" : "two-way");
    std::vector<std::string> extra;
    if (three_way) extra = {"--base", base_dump_};
    MergeAndCheckWith(prod_dump_, dev_dump_, extra, [&](const MergeRun& run) {
      std::vector<std::string> expected = Content(prod_db_, q);
      for (const char* row :
           {"by dave | 2 | dave", "by erin | 3 | erin", "dave again | 1 | dave"}) {
        expected.push_back(row);
      }
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(Content(last_shadow_, q), expected);
      EXPECT_EQ(Content(last_shadow_, "SELECT count(*) = count(DISTINCT id) FROM orders"),
                std::vector<std::string>{"t"});
      // Each note names its own side's order, through the remap.
      const std::string about =
          "SELECT n.note, o.note FROM order_notes n "
          "JOIN orders o ON o.id = n.order_id AND o.region = n.region";
      std::vector<std::string> expected_notes = Content(prod_db_, about);
      for (const std::string& row : Content(dev_db_, about)) {
        if (std::find(expected_notes.begin(), expected_notes.end(), row) == expected_notes.end()) {
          expected_notes.push_back(row);
        }
      }
      std::sort(expected_notes.begin(), expected_notes.end());
      EXPECT_EQ(Content(last_shadow_, about), expected_notes);
      EXPECT_EQ(Content(last_shadow_, "SELECT count(*) FROM order_notes n WHERE note = 'about ' || "
                                      "(SELECT note FROM orders o WHERE o.id = n.order_id AND "
                                      "o.region = n.region)"),
                Content(last_shadow_, "SELECT count(*) FROM order_notes"));
      ExpectVerified(run);
    });
  }
}

// Tables whose keys one sequence draws: it hands out each value once, so
// the app may name a row by its key alone (likes.item_id names a photo or
// a video). Production made photo 3, development video 3: development's
// moves, and its like follows it.
TEST_F(ReferenceTest, TablesDrawingOneSequenceShareItsKeys) {
  const std::string schema = R"sql(
    CREATE SEQUENCE item_ids;
    CREATE TABLE photos (id bigint DEFAULT nextval('item_ids') PRIMARY KEY, name text NOT NULL);
    CREATE TABLE videos (id bigint DEFAULT nextval('item_ids') PRIMARY KEY, name text NOT NULL);
    INSERT INTO photos (name) VALUES ('base photo');
    INSERT INTO videos (name) VALUES ('base video');
  )sql";
  base_db_ = MakeDb("base", {schema});
  prod_db_ = MakeDb("prod", {schema, "INSERT INTO photos (name) VALUES ('prod photo');"});
  dev_db_ = MakeDb("dev", {schema, "INSERT INTO videos (name) VALUES ('dev video');"});
  prod_dump_ = DumpDb(prod_db_, {});
  dev_dump_ = DumpDb(dev_db_, {});
  base_dump_ = DumpDb(base_db_, {});
  const std::string q = "SELECT name FROM photos UNION ALL SELECT name FROM videos";
  for (bool three_way : {false, true}) {
    SCOPED_TRACE(three_way ? "three-way" : "two-way");
    std::vector<std::string> extra;
    if (three_way) extra = {"--base", base_dump_};
    MergeAndCheckWith(prod_dump_, dev_dump_, extra, [&](const MergeRun& run) {
      EXPECT_EQ(Content(last_shadow_, q),
                (std::vector<std::string>{"base photo", "base video", "dev video", "prod photo"}));
      EXPECT_EQ(Content(last_shadow_, "SELECT count(DISTINCT id) FROM (SELECT id FROM photos "
                                      "UNION ALL SELECT id FROM videos) ids"),
                std::vector<std::string>{"4"});
      const Json report = Json::parse(run.report);
      EXPECT_EQ(TableIn(report, "public.videos")["counts"]["remapped"], 1);
      ExpectVerified(run);
    });
  }
}

}  // namespace
}  // namespace pgmerge::testing
