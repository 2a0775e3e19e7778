#include "parser/value_text.h"

#include <gtest/gtest.h>

#include <string>

#include <vector>

namespace pgmerge::parser {
namespace {

// Pairs read off PostgreSQL 15: one value as `SET TimeZone` to eight zones
// (Europe/Paris, Asia/Kolkata, America/St_Johns, Pacific/Chatham,
// America/New_York, Asia/Tokyo, Pacific/Kiritimati, America/Adak) writes it,
// and as UTC writes it. Local mean time before 1911 gives offsets in seconds;
// the year changes across BC/AD and at 9999.
constexpr char kFromPostgres[] = R"(
0001-01-01 00:09:21+00:09:21	0001-01-01 00:00:00+00
0001-01-01 00:39:21+00:09:21	0001-01-01 00:30:00+00
0001-01-01 05:23:28+05:53:28	0001-12-31 23:30:00+00 BC
0001-01-01 05:53:28+05:53:28	0001-01-01 00:00:00+00
0001-01-01 06:23:28+05:53:28	0001-01-01 00:30:00+00
0001-01-01 08:48:59+09:18:59	0001-12-31 23:30:00+00 BC
0001-01-01 09:18:59+09:18:59	0001-01-01 00:00:00+00
0001-01-01 09:48:59+09:18:59	0001-01-01 00:30:00+00
0001-01-01 11:43:22+12:13:22	0001-12-31 23:30:00+00 BC
0001-01-01 11:43:48+12:13:48	0001-12-31 23:30:00+00 BC
0001-01-01 12:13:22+12:13:22	0001-01-01 00:00:00+00
0001-01-01 12:13:48+12:13:48	0001-01-01 00:00:00+00
0001-01-01 12:43:22+12:13:22	0001-01-01 00:30:00+00
0001-01-01 12:43:48+12:13:48	0001-01-01 00:30:00+00
0001-12-31 13:00:40-10:29:20 BC	0001-12-31 23:30:00+00 BC
0001-12-31 13:30:40-10:29:20 BC	0001-01-01 00:00:00+00
0001-12-31 14:00:40-10:29:20 BC	0001-01-01 00:30:00+00
0001-12-31 18:33:58-04:56:02 BC	0001-12-31 23:30:00+00 BC
0001-12-31 19:03:58-04:56:02 BC	0001-01-01 00:00:00+00
0001-12-31 19:33:58-04:56:02 BC	0001-01-01 00:30:00+00
0001-12-31 19:59:08-03:30:52 BC	0001-12-31 23:30:00+00 BC
0001-12-31 20:29:08-03:30:52 BC	0001-01-01 00:00:00+00
0001-12-31 20:59:08-03:30:52 BC	0001-01-01 00:30:00+00
0001-12-31 23:39:21+00:09:21 BC	0001-12-31 23:30:00+00 BC
0044-03-15 01:30:40-10:29:20 BC	0044-03-15 12:00:00+00 BC
0044-03-15 07:03:58-04:56:02 BC	0044-03-15 12:00:00+00 BC
0044-03-15 08:29:08-03:30:52 BC	0044-03-15 12:00:00+00 BC
0044-03-15 12:09:21+00:09:21 BC	0044-03-15 12:00:00+00 BC
0044-03-15 17:53:28+05:53:28 BC	0044-03-15 12:00:00+00 BC
0044-03-15 21:18:59+09:18:59 BC	0044-03-15 12:00:00+00 BC
0044-03-16 00:13:22+12:13:22 BC	0044-03-15 12:00:00+00 BC
0044-03-16 00:13:48+12:13:48 BC	0044-03-15 12:00:00+00 BC
12345-06-06 23:09:10-09	12345-06-07 08:09:10+00
12345-06-07 04:09:10-04	12345-06-07 08:09:10+00
12345-06-07 05:39:10-02:30	12345-06-07 08:09:10+00
12345-06-07 10:09:10+02	12345-06-07 08:09:10+00
12345-06-07 13:39:10+05:30	12345-06-07 08:09:10+00
12345-06-07 17:09:10+09	12345-06-07 08:09:10+00
12345-06-07 20:54:10+12:45	12345-06-07 08:09:10+00
12345-06-07 22:09:10+14	12345-06-07 08:09:10+00
1850-06-30 13:30:40.123456-10:29:20	1850-07-01 00:00:00.123456+00
1850-06-30 19:03:58.123456-04:56:02	1850-07-01 00:00:00.123456+00
1850-06-30 20:29:08.123456-03:30:52	1850-07-01 00:00:00.123456+00
1850-07-01 00:09:21.123456+00:09:21	1850-07-01 00:00:00.123456+00
1850-07-01 05:53:28.123456+05:53:28	1850-07-01 00:00:00.123456+00
1850-07-01 09:18:59.123456+09:18:59	1850-07-01 00:00:00.123456+00
1850-07-01 12:13:22.123456+12:13:22	1850-07-01 00:00:00.123456+00
1850-07-01 12:13:48.123456+12:13:48	1850-07-01 00:00:00.123456+00
1899-12-31 12:13:22-11:46:38	1900-01-01 00:00:00+00
1899-12-31 13:30:40-10:29:20	1900-01-01 00:00:00+00
1899-12-31 19:00:00-05	1900-01-01 00:00:00+00
1899-12-31 20:29:08-03:30:52	1900-01-01 00:00:00+00
1900-01-01 00:09:21+00:09:21	1900-01-01 00:00:00+00
1900-01-01 05:21:10+05:21:10	1900-01-01 00:00:00+00
1900-01-01 09:00:00+09	1900-01-01 00:00:00+00
1900-01-01 12:15:00+12:15	1900-01-01 00:00:00+00
1969-12-31 13:00:00-11	1970-01-01 00:00:00+00
1969-12-31 13:20:00-10:40	1970-01-01 00:00:00+00
1969-12-31 19:00:00-05	1970-01-01 00:00:00+00
1969-12-31 20:30:00-03:30	1970-01-01 00:00:00+00
1970-01-01 01:00:00+01	1970-01-01 00:00:00+00
1970-01-01 05:30:00+05:30	1970-01-01 00:00:00+00
1970-01-01 09:00:00+09	1970-01-01 00:00:00+00
1970-01-01 12:45:00+12:45	1970-01-01 00:00:00+00
1999-12-31 13:30:00-10	1999-12-31 23:30:00+00
1999-12-31 18:30:00-05	1999-12-31 23:30:00+00
1999-12-31 20:00:00-03:30	1999-12-31 23:30:00+00
2000-01-01 00:30:00+01	1999-12-31 23:30:00+00
2000-01-01 05:00:00+05:30	1999-12-31 23:30:00+00
2000-01-01 08:30:00+09	1999-12-31 23:30:00+00
2000-01-01 13:15:00+13:45	1999-12-31 23:30:00+00
2000-01-01 13:30:00+14	1999-12-31 23:30:00+00
2000-02-29 13:59:59.999999-10	2000-02-29 23:59:59.999999+00
2000-02-29 18:59:59.999999-05	2000-02-29 23:59:59.999999+00
2000-02-29 20:29:59.999999-03:30	2000-02-29 23:59:59.999999+00
2000-03-01 00:59:59.999999+01	2000-02-29 23:59:59.999999+00
2000-03-01 05:29:59.999999+05:30	2000-02-29 23:59:59.999999+00
2000-03-01 08:59:59.999999+09	2000-02-29 23:59:59.999999+00
2000-03-01 13:44:59.999999+13:45	2000-02-29 23:59:59.999999+00
2000-03-01 13:59:59.999999+14	2000-02-29 23:59:59.999999+00
2020-01-01 00:00:00-10	2020-01-01 10:00:00+00
2020-01-01 05:00:00-05	2020-01-01 10:00:00+00
2020-01-01 06:30:00-03:30	2020-01-01 10:00:00+00
2020-01-01 11:00:00+01	2020-01-01 10:00:00+00
2020-01-01 15:30:00+05:30	2020-01-01 10:00:00+00
2020-01-01 19:00:00+09	2020-01-01 10:00:00+00
2020-01-01 23:45:00+13:45	2020-01-01 10:00:00+00
2020-01-02 00:00:00+14	2020-01-01 10:00:00+00
2021-06-01 03:30:00.5-09	2021-06-01 12:30:00.5+00
2021-06-01 08:30:00.5-04	2021-06-01 12:30:00.5+00
2021-06-01 10:00:00.5-02:30	2021-06-01 12:30:00.5+00
2021-06-01 14:30:00.5+02	2021-06-01 12:30:00.5+00
2021-06-01 18:00:00.5+05:30	2021-06-01 12:30:00.5+00
2021-06-01 21:30:00.5+09	2021-06-01 12:30:00.5+00
2021-06-02 01:15:00.5+12:45	2021-06-01 12:30:00.5+00
2021-06-02 02:30:00.5+14	2021-06-01 12:30:00.5+00
2024-03-30 16:30:00-09	2024-03-31 01:30:00+00
2024-03-30 21:30:00-04	2024-03-31 01:30:00+00
2024-03-30 23:00:00-02:30	2024-03-31 01:30:00+00
2024-03-31 03:30:00+02	2024-03-31 01:30:00+00
2024-03-31 07:00:00+05:30	2024-03-31 01:30:00+00
2024-03-31 10:30:00+09	2024-03-31 01:30:00+00
2024-03-31 15:15:00+13:45	2024-03-31 01:30:00+00
2024-03-31 15:30:00+14	2024-03-31 01:30:00+00
2100-02-28 12:00:00-10	2100-02-28 22:00:00+00
2100-02-28 17:00:00-05	2100-02-28 22:00:00+00
2100-02-28 18:30:00-03:30	2100-02-28 22:00:00+00
2100-02-28 23:00:00+01	2100-02-28 22:00:00+00
2100-03-01 03:30:00+05:30	2100-02-28 22:00:00+00
2100-03-01 07:00:00+09	2100-02-28 22:00:00+00
2100-03-01 11:45:00+13:45	2100-02-28 22:00:00+00
2100-03-01 12:00:00+14	2100-02-28 22:00:00+00
4713-11-24 01:30:40-10:29:20 BC	4713-11-24 12:00:00+00 BC
4713-11-24 07:03:58-04:56:02 BC	4713-11-24 12:00:00+00 BC
4713-11-24 08:29:08-03:30:52 BC	4713-11-24 12:00:00+00 BC
4713-11-24 12:09:21+00:09:21 BC	4713-11-24 12:00:00+00 BC
4713-11-24 17:53:28+05:53:28 BC	4713-11-24 12:00:00+00 BC
4713-11-24 21:18:59+09:18:59 BC	4713-11-24 12:00:00+00 BC
4713-11-25 00:13:22+12:13:22 BC	4713-11-24 12:00:00+00 BC
4713-11-25 00:13:48+12:13:48 BC	4713-11-24 12:00:00+00 BC
)";

TEST(Timestamptz, AsPostgresWritesItInUtc) {
  int pairs = 0;
  std::string_view text = kFromPostgres;
  for (size_t end; (end = text.find('\n')) != std::string_view::npos; text.remove_prefix(end + 1)) {
    const std::string_view line = text.substr(0, end);
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string_view::npos) << line;
    const std::string_view two[] = {line.substr(0, tab), line.substr(tab + 1)};
    std::string out;
    ASSERT_TRUE(TimestamptzAsUtc(two[0], &out)) << two[0];
    EXPECT_EQ(out, two[1]) << two[0];
    out.clear();
    ASSERT_TRUE(TimestamptzAsUtc(two[1], &out));
    EXPECT_EQ(out, two[1]) << "UTC stays as it is";
    ++pairs;
  }
  EXPECT_GT(pairs, 100);
}

TEST(Timestamptz, OtherTextIsKept) {
  for (std::string_view v : {"", "infinity", "2020-01-01", "2020-01-01 10:00:00",
                             "20-01-01 10:00:00+01",
                             "2020-13-01 10:00:00+01", "2020-01-01 10:00:00.1234567+01",
                             "2020-01-01 10:00:00+1", "2020-01-01T10:00:00+01",
                             "2020-01-01 10:00:00+01 AD", "2020-01-01 10:00:00+01:",
                             "2021-02-29 10:00:00+01", "2020-04-31 10:00:00+01",
                             "2020-01-01 10:00:00+16", "4714-01-01 00:00:00+01 BC",
                             "294277-01-01 00:30:00+01"}) {
    std::string out;
    EXPECT_FALSE(TimestamptzAsUtc(v, &out)) << v;
    std::string field;
    EXPECT_EQ(AppendCanonicalField(v, SessionText::kTimestamptz, &field), 0);
    EXPECT_EQ(field, v);
  }
}

TEST(Timestamptz, Fields) {
  EXPECT_TRUE(IsCanonicalField("\\N", SessionText::kTimestamptz));
  EXPECT_TRUE(IsCanonicalField("2020-01-01 10:00:00+00", SessionText::kTimestamptz));
  EXPECT_TRUE(IsCanonicalField("-infinity", SessionText::kTimestamptz));
  EXPECT_FALSE(IsCanonicalField("2020-01-01 11:00:00+01", SessionText::kTimestamptz));
  const std::string array = R"({"2020-01-01 11:00:00+01",NULL,infinity,"2020-01-01 10:00:00+00"})";
  EXPECT_FALSE(IsCanonicalField(array, SessionText::kTimestamptzElements));
  std::string out;
  EXPECT_EQ(AppendCanonicalField(array, SessionText::kTimestamptzElements, &out), 1);
  EXPECT_EQ(out, R"({"2020-01-01 10:00:00+00",NULL,infinity,"2020-01-01 10:00:00+00"})");
  EXPECT_TRUE(IsCanonicalField(out, SessionText::kTimestamptzElements));
  const std::string range = R"(["2020-01-01 11:00:00+01","2020-07-01 11:00:00+02"))";
  out.clear();
  EXPECT_EQ(AppendCanonicalField(range, SessionText::kTimestamptzElements, &out), 2);
  EXPECT_EQ(out, R"(["2020-01-01 10:00:00+00","2020-07-01 09:00:00+00"))");
  out.clear();
  EXPECT_EQ(AppendCanonicalField("empty", SessionText::kTimestamptzElements, &out), 0);
  EXPECT_EQ(out, "empty");
  out.clear();
  EXPECT_EQ(AppendCanonicalField("{\"a b\",\"2020-01-01 11:00:00+01",
                                 SessionText::kTimestamptzElements, &out),
            0);
  EXPECT_EQ(out, "{\"a b\",\"2020-01-01 11:00:00+01");
}

// bytea_output = escape, as pg_dump writes it where a database sets it, and
// COPY's own backslashes around it: the same bytes as hex.
TEST(SessionText, ByteaEscapeAsHex) {
  std::string out;
  EXPECT_EQ(AppendCanonicalField(R"(\\000\\377A\\\\ z)", SessionText::kBytea, &out), 1);
  EXPECT_EQ(out, R"(\\x00ff415c207a)");
  out.clear();
  EXPECT_EQ(AppendCanonicalField("", SessionText::kBytea, &out), 1);
  EXPECT_EQ(out, R"(\\x)");
  for (std::string_view kept : {R"(\\x00ff)", R"(\N)", R"(\\9)", R"(\\01)"}) {
    out.clear();
    EXPECT_EQ(AppendCanonicalField(kept, SessionText::kBytea, &out), 0) << kept;
    EXPECT_EQ(out, kept);
  }
  EXPECT_TRUE(IsCanonicalField(R"(\\x)", SessionText::kBytea));
  EXPECT_FALSE(IsCanonicalField("abc", SessionText::kBytea));
}

TEST(SessionText, TimestampAsUtc) {
  std::string out;
  ASSERT_TRUE(TimestampAsUtc("2020-01-01 10:00:00.5", &out));
  EXPECT_EQ(out, "2020-01-01 10:00:00.5+00");
  out.clear();
  ASSERT_TRUE(TimestampAsUtc("0044-03-15 12:00:00 BC", &out));
  EXPECT_EQ(out, "0044-03-15 12:00:00+00 BC");
  for (const char* kept : {"infinity", "2020-01-01", "2020-01-01 10:00:00+01", "x"}) {
    out.clear();
    EXPECT_FALSE(TimestampAsUtc(kept, &out)) << kept;
    EXPECT_EQ(out, "");
  }
}

TEST(SessionText, NumericAtScale) {
  const std::pair<const char*, const char*> four[] = {
      {"1.5", "1.5000"},      {"-2", "-2.0000"},  {"1.23456", "1.2346"}, {"1.23455", "1.2346"},
      {"-1.23455", "-1.2346"}, {"9.99995", "10.0000"}, {"0.00004", "0.0000"},
      {"-0.00004", "0.0000"},  {"007.1", "7.1000"}, {".5", "0.5000"}, {"12", "12.0000"}};
  for (const auto& [in, want] : four) {
    std::string out;
    ASSERT_TRUE(NumericAtScale(in, 4, &out)) << in;
    EXPECT_EQ(out, want) << in;
  }
  std::string out;
  ASSERT_TRUE(NumericAtScale("2.5", 0, &out));
  EXPECT_EQ(out, "3");
  out.clear();
  ASSERT_TRUE(NumericAtScale("-0.5", 0, &out));
  EXPECT_EQ(out, "-1");
  for (const char* kept : {"NaN", "Infinity", "-Infinity", "", "-", "1e5", "1.2.3", "\\N"}) {
    out.clear();
    EXPECT_FALSE(NumericAtScale(kept, 2, &out)) << kept;
  }
}

// json COPY text and what PostgreSQL 15's jsonb writes of it (SELECT src,
// src::jsonb ... TO STDOUT): key order, equal keys, spacing, numbers with
// exponents, escapes and surrogate pairs, rows of pagila as json.
constexpr char kJsonToJsonb[] = R"json(
{"b": 1, "a": 2}	{"a": 2, "b": 1}
{"aa":1,"b":2,"a":3}	{"a": 3, "b": 2, "aa": 1}
{"a":1,"a":2}	{"a": 2}
[1, 2,3 ]	[1, 2, 3]
  {"x" : [ ] , "y":{ } }  	{"x": [], "y": {}}
1e2	100
1.5e1	15
1.50e1	15.0
1E-2	0.01
-0	0
-0.0	0.0
0.10	0.10
123456789012345678901234567890	123456789012345678901234567890
1e-7	0.0000001
-1.25E+3	-1250
2.5e-1	0.25
"a\\u00e9b"	"aéb"
"\\ud83d\\ude00"	"😀"
"tab\\there"	"tab\\there"
"q\\"uote\\\\back/slash\\/"	"q\\"uote\\\\back/slash/"
"ctl\\u0001x\\u001fy"	"ctl\\u0001x\\u001fy"
"\\b\\f\\n\\r"	"\\b\\f\\n\\r"
true	true
null	null
[true,false,null]	[true, false, null]
{"é":1,"e":2,"ee":3}	{"e": 2, "ee": 3, "é": 1}
{"k": {"z": [1, {"b": 0, "a": 1}], "y": "s"}}	{"k": {"y": "s", "z": [1, {"a": 1, "b": 0}]}}
"line\\nbreak"	"line\\nbreak"
{"":1}	{"": 1}
[[],[[]],{}]	[[], [[]], {}]
0e5	0
1e0	1
100e-2	1.00
0.0001e4	1
-0e-3	0.000
0.000	0.000
5e+3	5000
12.3400e1	123.400
[1e999]	[1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000]
9.99e-999	0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000999
{"a":{"a":{"a":[[[[1]]]]}}}	{"a": {"a": {"a": [[[[1]]]]}}}
[  ]	[]
"\\u0041\\u00DF\\u6C34\\uD834\\uDD1E"	"Aß水𝄞"
{"b":1,"a":2,"b":3}	{"a": 2, "b": 3}
"\\\\\\\\u0000 literal"	"\\\\\\\\u0000 literal"
{"film_id":1,"title":"ACADEMY DINOSAUR","description":"A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies","release_year":2012,"language_id":1,"original_language_id":null,"rental_duration":6,"rental_rate":0.99,"length":86,"replacement_cost":20.99,"rating":"PG","last_update":"2022-09-10T16:46:03.905795+00:00","special_features":["Deleted Scenes","Behind the Scenes"],"fulltext":"'academi':1 'battl':15 'canadian':20 'dinosaur':2 'drama':5 'epic':4 'feminist':8 'mad':11 'must':14 'rocki':21 'scientist':12 'teacher':17"}	{"title": "ACADEMY DINOSAUR", "length": 86, "rating": "PG", "film_id": 1, "fulltext": "'academi':1 'battl':15 'canadian':20 'dinosaur':2 'drama':5 'epic':4 'feminist':8 'mad':11 'must':14 'rocki':21 'scientist':12 'teacher':17", "description": "A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies", "language_id": 1, "last_update": "2022-09-10T16:46:03.905795+00:00", "rental_rate": 0.99, "release_year": 2012, "rental_duration": 6, "replacement_cost": 20.99, "special_features": ["Deleted Scenes", "Behind the Scenes"], "original_language_id": null}
{"film_id":76,"title":"BIRDCAGE CASPER","description":"A Fast-Paced Saga of a Frisbee And a Astronaut who must Overcome a Feminist in Ancient India","release_year":2018,"language_id":1,"original_language_id":null,"rental_duration":4,"rental_rate":0.99,"length":103,"replacement_cost":23.99,"rating":"NC-17","last_update":"2022-09-10T16:46:03.905795+00:00","special_features":["Commentaries","Deleted Scenes","Behind the Scenes"],"fulltext":"'ancient':20 'astronaut':13 'birdcag':1 'casper':2 'fast':5 'fast-pac':4 'feminist':18 'frisbe':10 'india':21 'must':15 'overcom':16 'pace':6 'saga':7"}	{"title": "BIRDCAGE CASPER", "length": 103, "rating": "NC-17", "film_id": 76, "fulltext": "'ancient':20 'astronaut':13 'birdcag':1 'casper':2 'fast':5 'fast-pac':4 'feminist':18 'frisbe':10 'india':21 'must':15 'overcom':16 'pace':6 'saga':7", "description": "A Fast-Paced Saga of a Frisbee And a Astronaut who must Overcome a Feminist in Ancient India", "language_id": 1, "last_update": "2022-09-10T16:46:03.905795+00:00", "rental_rate": 0.99, "release_year": 2018, "rental_duration": 4, "replacement_cost": 23.99, "special_features": ["Commentaries", "Deleted Scenes", "Behind the Scenes"], "original_language_id": null}
{"customer_id":1 ,  "store_id":1 ,  "first_name":"MARY" ,  "last_name":"SMITH" ,  "email":"MARY.SMITH@sakilacustomer.org" ,  "address_id":5 ,  "activebool":true ,  "create_date":"2022-02-14" ,  "last_update":"2022-02-15T09:57:20+00:00" ,  "active":1}	{"email": "MARY.SMITH@sakilacustomer.org", "active": 1, "store_id": 1, "last_name": "SMITH", "activebool": true, "address_id": 5, "first_name": "MARY", "create_date": "2022-02-14", "customer_id": 1, "last_update": "2022-02-15T09:57:20+00:00"}
)json";

TEST(SessionText, JsonAsJsonbAsPostgresWritesIt) {
  std::string_view text = kJsonToJsonb;
  int pairs = 0;
  for (size_t end; (end = text.find('\n')) != std::string_view::npos; text.remove_prefix(end + 1)) {
    const std::string_view line = text.substr(0, end);
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string_view::npos) << line;
    std::string out;
    ASSERT_TRUE(JsonAsJsonb(line.substr(0, tab), &out)) << line;
    EXPECT_EQ(out, line.substr(tab + 1)) << line;
    std::string again;
    ASSERT_TRUE(JsonAsJsonb(out, &again));
    EXPECT_EQ(again, out) << "jsonb's text stays as it is";
    ++pairs;
  }
  EXPECT_EQ(pairs, 48);
  for (const char* refused : {"", "{", "[1,]", "01", "1.", "\"\\\\u0000\"", "\"\\\\ud800\"",
                              "{\"a\" 1}", "nul", "1e", "[1] x", "\\N"}) {
    std::string out;
    EXPECT_FALSE(JsonAsJsonb(refused, &out)) << refused;
  }
  std::string deep(2000, '[');
  deep += std::string(2000, ']');
  std::string out;
  EXPECT_FALSE(JsonAsJsonb(deep, &out)) << "deeper than it recurses";
}

}  // namespace
}  // namespace pgmerge::parser
