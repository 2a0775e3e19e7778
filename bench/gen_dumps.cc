// pgmerge_gen: writes a synthetic plain-format pg_dump of a small app, the
// same bytes for the same flags (a fixed PRNG, no locale, no clock).
//
//   pgmerge_gen --rows N --side prod|dev [--seed S] [--width-factor K]
//               [--format copy|inserts] [--schema app|narrow] -o FILE
//
// Both sides share a base: the first 90% of each table's keys, with
// identical rows. Each side then adds its own rows; development's new keys
// start inside production's new range so that 20% of them collide, and
// new rows point at their own side's new parents. Development's schema has
// one more column (users.locale, with a default).
//
// `--schema narrow` writes pgbench's shape instead: short rows keyed by plain
// integer columns that no sequence feeds (pgbench_accounts.aid and its
// kin), the keys a merge matches as fixed; each side edits 1% of the base.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  int64_t rows = 1000000;
  uint64_t seed = 42;
  int width = 1;
  bool inserts = false;
  bool dev = false;
  bool narrow = false;
  std::string out;
};

uint64_t Mix(uint64_t z) {  // splitmix64's finaliser.
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t s) : s_(s) {}
  uint64_t Next() { return Mix(s_ += 0x9E3779B97F4A7C15ULL); }
  int64_t Range(int64_t lo, int64_t hi) {  // Inclusive.
    return hi <= lo ? lo : lo + static_cast<int64_t>(Next() % (hi - lo + 1));
  }

 private:
  uint64_t s_;
};

class Out {
 public:
  explicit Out(FILE* f) : f_(f) { buf_.reserve(1 << 20); }
  ~Out() { Flush(); }
  Out& operator<<(const std::string& s) { return Add(s.data(), s.size()); }
  Out& operator<<(const char* s) { return Add(s, std::strlen(s)); }
  Out& operator<<(int64_t v) {
    char tmp[24];
    int n = std::snprintf(tmp, sizeof tmp, "%" PRId64, v);
    return Add(tmp, n);
  }
  Out& Add(const char* p, size_t n) {
    buf_.append(p, n);
    if (buf_.size() > (1 << 20)) Flush();
    return *this;
  }
  void Flush() {
    std::fwrite(buf_.data(), 1, buf_.size(), f_);
    buf_.clear();
  }

 private:
  FILE* f_;
  std::string buf_;
};

const char* kWords[] = {"alpha", "beta", "gamma", "delta", "merge", "shadow",
                        "swap", "keys", "rows", "tab\there", "line\nbreak",
                        "back\\slash", "caf\xc3\xa9", "zero", "postgres", "dump"};

// Text of about `len` bytes; raw tabs, newlines and backslashes included
// (escaped by the writer, as pg_dump does).
std::string Words(Rng& r, int len) {
  std::string s;
  while (static_cast<int>(s.size()) < len) {
    if (!s.empty()) s.push_back(' ');
    s += kWords[r.Next() % 16];
  }
  return s;
}

// One table's key plan on this side.
struct Keys {
  int64_t base = 0;        // Keys 1..base are shared.
  int64_t first_new = 0;   // This side's new keys: first_new..last.
  int64_t last = 0;
  bool IsNew(int64_t k) const { return k > base; }
  int64_t Count() const { return base + (last - first_new + 1); }
  int64_t Pick(Rng& r, bool prefer_new) const {
    if (prefer_new && last >= first_new) return r.Range(first_new, last);
    return r.Range(1, base);
  }
};

Keys Plan(int64_t n, bool dev) {
  Keys k;
  n = n < 10 ? 10 : n;
  k.base = n * 9 / 10;
  int64_t fresh = n - k.base;
  // Dev's new keys start 80% into prod's new range: 20% of them collide.
  k.first_new = dev ? k.base + fresh * 8 / 10 + 1 : k.base + 1;
  k.last = k.first_new + fresh - 1;
  return k;
}

class Writer {
 public:
  Writer(const Options& o, Out& out) : o_(o), out_(out) {}

  void Value(const std::string& v) {  // One field, COPY- or SQL-encoded.
    if (o_.inserts) {
      out_ << "'";
      for (char c : v) {
        if (c == '\'') out_ << "''";
        else out_.Add(&c, 1);
      }
      out_ << "'";
      return;
    }
    for (char c : v) {
      switch (c) {
        case '\\': out_ << "\\\\"; break;
        case '\t': out_ << "\\t"; break;
        case '\n': out_ << "\\n"; break;
        default: out_.Add(&c, 1);
      }
    }
  }
  void Raw(const std::string& v) { out_ << v; }
  void Int(int64_t v) { out_ << v; }
  void Null() { out_ << (o_.inserts ? "NULL" : "\\N"); }

  // Starts a table's data; rows follow through Row()/Sep()/End().
  void Begin(const std::string& table, const std::string& cols) {
    table_ = table;
    cols_ = cols;
    if (!o_.inserts) out_ << "COPY public." << table << " (" << cols << ") FROM stdin;\n";
  }
  void Row() {
    if (o_.inserts) out_ << "INSERT INTO public." << table_ << " VALUES (";
  }
  void Sep() { out_ << (o_.inserts ? ", " : "\t"); }
  void EndRow() { out_ << (o_.inserts ? ");\n" : "\n"); }
  void End() { out_ << (o_.inserts ? "\n\n" : "\\.\n\n\n"); }

 private:
  const Options& o_;
  Out& out_;
  std::string table_, cols_;
};

std::string Timestamp(Rng& r) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2024-%02d-%02d %02d:%02d:%02d+00",
                static_cast<int>(r.Range(1, 12)), static_cast<int>(r.Range(1, 28)),
                static_cast<int>(r.Range(0, 23)), static_cast<int>(r.Range(0, 59)),
                static_cast<int>(r.Range(0, 59)));
  return buf;
}

// The row's generator: shared rows depend on (seed, table, key) only, a
// side's new rows on the side too.
Rng RowRng(const Options& o, int table, int64_t key, bool is_new) {
  return Rng(Mix(o.seed * 1315423911ULL + table * 2654435761ULL + key * 97 +
                 (is_new ? (o.dev ? 7 : 3) : 0)));
}

void Header(Out& out) {
  out << "--\n-- PostgreSQL database dump\n--\n\n"
         "-- Dumped from database version 15.18 (pgmerge_gen)\n\n"
         "SET statement_timeout = 0;\nSET lock_timeout = 0;\n"
         "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
         "SELECT pg_catalog.set_config('search_path', '', false);\n"
         "SET check_function_bodies = false;\nSET client_min_messages = warning;\n\n"
         "SET default_tablespace = '';\n\nSET default_table_access_method = heap;\n\n";
}

struct TableDef {
  const char* name;
  const char* ddl;    // Column definitions.
  const char* cols;   // Data column list.
  const char* seq;    // Serial sequence, or "" (identity / none).
  double share;       // Of all rows.
};

// pgbench's tables (as `pgbench -i` makes them, history left out): keys are
// plain integers, the filler blank-padded char(n).
void NarrowDump(const Options& o, FILE* f) {
  struct Def {
    const char* name;
    const char* ddl;
    const char* cols;
    const char* key;
    int filler;
    double share;
  };
  const Def defs[] = {
      {"pgbench_branches", "bid integer NOT NULL, bbalance integer, filler character(88)",
       "bid, bbalance, filler", "bid", 88, 0.0001},
      {"pgbench_tellers", "tid integer NOT NULL, bid integer, tbalance integer, filler character(84)",
       "tid, bid, tbalance, filler", "tid", 84, 0.001},
      {"pgbench_accounts", "aid integer NOT NULL, bid integer, abalance integer, filler character(84)",
       "aid, bid, abalance, filler", "aid", 84, 0.9989},
  };
  Out out(f);
  Header(out);
  for (const Def& d : defs) {
    out << "--\n-- Name: " << d.name << "; Type: TABLE; Schema: public; Owner: -\n--\n\n"
        << "CREATE TABLE public." << d.name << " (\n    " << d.ddl << "\n);\n\n";
  }
  Writer w(o, out);
  // Base rows point at base branches only: both sides write them alike.
  const Keys branch_keys = Plan(static_cast<int64_t>(o.rows * defs[0].share), o.dev);
  for (size_t ti = 0; ti < 3; ++ti) {
    const Def& d = defs[ti];
    const Keys k = Plan(static_cast<int64_t>(o.rows * d.share), o.dev);
    const std::string filler(static_cast<size_t>(d.filler) * o.width, ' ');
    w.Begin(d.name, d.cols);
    auto row = [&](int64_t key, bool is_new) {
      Rng r = RowRng(o, static_cast<int>(ti), key, is_new);
      // 1% of the base rows edited on this side (a balance moved).
      const bool edited = !is_new && Rng(Mix(key * 131 + (o.dev ? 5 : 9))).Range(0, 99) == 0;
      w.Row();
      w.Int(key); w.Sep();
      if (ti > 0) {
        w.Int(r.Range(1, is_new ? branch_keys.last : branch_keys.base));
        w.Sep();
      }
      w.Int(edited || is_new ? r.Range(-5000, 5000) : 0); w.Sep();
      w.Value(filler);
      w.EndRow();
    };
    for (int64_t key = 1; key <= k.base; ++key) row(key, false);
    for (int64_t key = k.first_new; key <= k.last; ++key) row(key, true);
    w.End();
  }
  for (const Def& d : defs) {
    out << "ALTER TABLE ONLY public." << d.name << "\n    ADD CONSTRAINT " << d.name
        << "_pkey PRIMARY KEY (" << d.key << ");\n\n";
  }
  out << "--\n-- PostgreSQL database dump complete\n--\n\n";
  out.Flush();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pgmerge_gen: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rows") o.rows = std::atoll(next().c_str());
    else if (a == "--seed") o.seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--width-factor") o.width = std::atoi(next().c_str());
    else if (a == "--format") o.inserts = next() == "inserts";
    else if (a == "--side") o.dev = next() == "dev";
    else if (a == "--schema") o.narrow = next() == "narrow";
    else if (a == "-o") o.out = next();
    else {
      std::fprintf(stderr, "usage: pgmerge_gen --rows N --side prod|dev [--seed S] "
                           "[--width-factor K] [--format copy|inserts] [--schema app|narrow] "
                           "-o FILE\n");
      return 2;
    }
  }
  FILE* f = o.out.empty() ? stdout : std::fopen(o.out.c_str(), "wb");
  if (f == nullptr) {
    std::perror(o.out.c_str());
    return 1;
  }
  if (o.narrow) {
    NarrowDump(o, f);
    if (f != stdout) std::fclose(f);
    return 0;
  }
  std::string users_ddl = "id integer NOT NULL, email text NOT NULL, name text, bio text, created_at timestamp with time zone";
  std::string users_cols = "id, email, name, bio, created_at";
  if (o.dev) {
    users_ddl += ", locale text DEFAULT 'en'::text";
    users_cols += ", locale";
  }
  const std::vector<TableDef> tables = {
      {"users", users_ddl.c_str(), users_cols.c_str(), "users_id_seq", 0.05},
      {"categories", "id integer NOT NULL, slug text NOT NULL, title text", "id, slug, title", "categories_id_seq", 0.0001},
      {"posts", "id bigint NOT NULL, user_id integer NOT NULL, category_id integer, title text, body text, created_at timestamp with time zone", "id, user_id, category_id, title, body, created_at", "posts_id_seq", 0.10},
      {"comments", "id integer NOT NULL, post_id bigint NOT NULL, parent_id integer, user_id integer, body text", "id, post_id, parent_id, user_id, body", "comments_id_seq", 0.20},
      {"tags", "id integer NOT NULL, name text NOT NULL", "id, name", "", 0.0001},
      {"post_tags", "post_id bigint NOT NULL, tag_id integer NOT NULL", "post_id, tag_id", "", 0.10},
      {"orders", "id integer NOT NULL, user_id integer NOT NULL, total numeric(12,2), status text", "id, user_id, total, status", "orders_id_seq", 0.05},
      {"order_items", "id bigint NOT NULL, order_id integer NOT NULL, sku text, qty integer, price numeric(12,2)", "id, order_id, sku, qty, price", "order_items_id_seq", 0.15},
      {"events", "id bigint NOT NULL, user_id integer, kind text, payload text, at timestamp with time zone", "id, user_id, kind, payload, at", "events_id_seq", 0.22},
      {"documents", "id uuid NOT NULL, owner_id integer, title text, body text", "id, owner_id, title, body", "", 0.03},
      {"audit_log", "at timestamp with time zone, actor text, action text", "at, actor, action", "", 0.05},
      {"settings", "key text NOT NULL, value text", "key, value", "", 0.0001},
  };
  std::vector<Keys> keys;
  for (const TableDef& t : tables) {
    keys.push_back(Plan(static_cast<int64_t>(o.rows * t.share), o.dev));
  }
  Out out(f);
  Header(out);
  for (const TableDef& t : tables) {
    out << "--\n-- Name: " << t.name << "; Type: TABLE; Schema: public; Owner: -\n--\n\n"
        << "CREATE TABLE public." << t.name << " (\n    " << t.ddl << "\n);\n\n";
    if (*t.seq) {
      out << "CREATE SEQUENCE public." << t.seq
          << "\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n\n"
          << "ALTER SEQUENCE public." << t.seq << " OWNED BY public." << t.name << ".id;\n\n";
    }
  }
  out << "ALTER TABLE public.tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n"
         "    SEQUENCE NAME public.tags_id_seq\n    START WITH 1\n    INCREMENT BY 1\n"
         "    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);\n\n";
  for (const TableDef& t : tables) {
    if (*t.seq) {
      out << "ALTER TABLE ONLY public." << t.name << " ALTER COLUMN id SET DEFAULT nextval('public."
          << t.seq << "'::regclass);\n\n";
    }
  }
  Writer w(o, out);
  const Keys& users = keys[0];
  const Keys& posts = keys[2];
  const Keys& comments = keys[3];
  const Keys& tags = keys[4];
  const Keys& orders = keys[6];
  for (size_t ti = 0; ti < tables.size(); ++ti) {
    const TableDef& t = tables[ti];
    const Keys& k = keys[ti];
    w.Begin(t.name, t.cols);
    auto each_key = [&](auto&& row) {
      for (int64_t key = 1; key <= k.base; ++key) row(key, false);
      for (int64_t key = k.first_new; key <= k.last; ++key) row(key, true);
    };
    each_key([&](int64_t key, bool is_new) {
      Rng r = RowRng(o, static_cast<int>(ti), key, is_new);
      const std::string name = t.name;
      w.Row();
      if (name == "users") {
        w.Int(key); w.Sep();
        w.Value("user" + std::to_string(key) + (is_new ? (o.dev ? "-d" : "-p") : "") + "@example.org"); w.Sep();
        w.Value(Words(r, 12)); w.Sep();
        w.Value(Words(r, static_cast<int>(r.Range(20, 200)) * o.width)); w.Sep();
        w.Value(Timestamp(r));
        if (o.dev) { w.Sep(); w.Value("en"); }
      } else if (name == "categories") {
        w.Int(key); w.Sep(); w.Value("cat-" + std::to_string(key)); w.Sep(); w.Value(Words(r, 16));
      } else if (name == "posts") {
        w.Int(key); w.Sep(); w.Int(users.Pick(r, is_new)); w.Sep();
        w.Int(r.Range(1, keys[1].base)); w.Sep(); w.Value(Words(r, 30)); w.Sep();
        w.Value(Words(r, static_cast<int>(r.Range(50, 600)) * o.width)); w.Sep(); w.Value(Timestamp(r));
      } else if (name == "comments") {
        w.Int(key); w.Sep(); w.Int(posts.Pick(r, is_new)); w.Sep();
        int64_t parent = key > 1 && r.Range(0, 3) == 0 ? r.Range(std::max<int64_t>(1, key - 50), key - 1) : 0;
        if (parent > 0 && (parent <= comments.base || parent >= comments.first_new)) w.Int(parent); else w.Null();
        w.Sep(); w.Int(users.Pick(r, is_new)); w.Sep();
        w.Value(Words(r, static_cast<int>(r.Range(10, 300)) * o.width));
      } else if (name == "tags") {
        w.Int(key); w.Sep(); w.Value("tag-" + std::to_string(key));
      } else if (name == "post_tags") {
        // Composite key of two foreign keys: one tag per post.
        int64_t post = key <= k.base ? key : posts.first_new + (key - k.first_new);
        if (post > posts.last) post = posts.Pick(r, false);
        w.Int(post); w.Sep(); w.Int(tags.Pick(r, false));
      } else if (name == "orders") {
        w.Int(key); w.Sep(); w.Int(users.Pick(r, is_new)); w.Sep();
        w.Raw(std::to_string(r.Range(100, 99999) / 100) + "." + std::to_string(10 + r.Range(0, 89)));
        w.Sep(); w.Value(r.Range(0, 1) ? "paid" : "open");
      } else if (name == "order_items") {
        w.Int(key); w.Sep(); w.Int(orders.Pick(r, is_new)); w.Sep();
        w.Value("SKU-" + std::to_string(r.Range(1, 99999))); w.Sep(); w.Int(r.Range(1, 9)); w.Sep();
        w.Raw(std::to_string(r.Range(1, 999)) + ".99");
      } else if (name == "events") {
        w.Int(key); w.Sep(); w.Int(users.Pick(r, is_new)); w.Sep();
        w.Value(r.Range(0, 1) ? "click" : "view"); w.Sep();
        w.Value(Words(r, static_cast<int>(r.Range(10, 150)) * o.width)); w.Sep(); w.Value(Timestamp(r));
      } else if (name == "documents") {
        char uuid[40];
        uint64_t a = Mix(key * 31 + (is_new ? (o.dev ? 2 : 1) : 0)), b = Mix(a);
        std::snprintf(uuid, sizeof uuid, "%08x-%04x-4%03x-8%03x-%012llx",
                      static_cast<unsigned>(a), static_cast<unsigned>(a >> 32) & 0xffff,
                      static_cast<unsigned>(a >> 48) & 0xfff, static_cast<unsigned>(b) & 0xfff,
                      static_cast<unsigned long long>(b >> 16) & 0xffffffffffffULL);
        w.Value(uuid); w.Sep(); w.Int(users.Pick(r, is_new)); w.Sep(); w.Value(Words(r, 20)); w.Sep();
        w.Value(Words(r, static_cast<int>(r.Range(100, 800)) * o.width));
      } else if (name == "audit_log") {
        w.Value(Timestamp(r)); w.Sep(); w.Value("actor" + std::to_string(r.Range(1, 50))); w.Sep();
        w.Value(Words(r, 40));
      } else if (name == "settings") {
        w.Value("setting." + std::to_string(key)); w.Sep(); w.Value(Words(r, 10));
      }
      w.EndRow();
    });
    w.End();
  }
  for (size_t ti = 0; ti < tables.size(); ++ti) {
    const char* seq = ti == 4 ? "tags_id_seq" : tables[ti].seq;
    if (*seq) {
      out << "SELECT pg_catalog.setval('public." << seq << "', " << keys[ti].last << ", true);\n\n";
    }
  }
  const char* pks[][2] = {{"users", "id"}, {"categories", "id"}, {"posts", "id"}, {"comments", "id"},
                          {"tags", "id"}, {"post_tags", "post_id, tag_id"}, {"orders", "id"},
                          {"order_items", "id"}, {"events", "id"}, {"documents", "id"}, {"settings", "key"}};
  for (auto& pk : pks) {
    out << "ALTER TABLE ONLY public." << pk[0] << "\n    ADD CONSTRAINT " << pk[0]
        << "_pkey PRIMARY KEY (" << pk[1] << ");\n\n";
  }
  out << "ALTER TABLE ONLY public.users\n    ADD CONSTRAINT users_email_key UNIQUE (email);\n\n"
         "ALTER TABLE ONLY public.categories\n    ADD CONSTRAINT categories_slug_key UNIQUE (slug);\n\n"
         "CREATE INDEX events_user_idx ON public.events USING btree (user_id);\n\n";
  const char* fks[][4] = {{"posts", "user_id", "users", "id"}, {"posts", "category_id", "categories", "id"},
                          {"comments", "post_id", "posts", "id"}, {"comments", "parent_id", "comments", "id"},
                          {"comments", "user_id", "users", "id"}, {"post_tags", "post_id", "posts", "id"},
                          {"post_tags", "tag_id", "tags", "id"}, {"orders", "user_id", "users", "id"},
                          {"order_items", "order_id", "orders", "id"}, {"events", "user_id", "users", "id"},
                          {"documents", "owner_id", "users", "id"}};
  for (auto& fk : fks) {
    out << "ALTER TABLE ONLY public." << fk[0] << "\n    ADD CONSTRAINT " << fk[0] << "_" << fk[1]
        << "_fkey FOREIGN KEY (" << fk[1] << ") REFERENCES public." << fk[2] << "(" << fk[3] << ");\n\n";
  }
  out << "--\n-- PostgreSQL database dump complete\n--\n\n";
  out.Flush();
  if (f != stdout) std::fclose(f);
  return 0;
}
