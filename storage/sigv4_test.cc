// The signer against published vectors: AWS's SigV4 test suite
// (aws-sig-v4-test-suite, as shipped in aws-sdk-js-v3's suite.fixture),
// the S3 examples of AWS's "Signature Calculations for the Authorization
// Header" page, and botocore 1.43 (the signer moto verifies with) for
// session tokens, odd keys and UploadPartCopy's headers.
#include "storage/sigv4.h"

#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/xml_uri.h"

namespace pgmerge::storage {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const Credentials kSuite = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Credentials kS3Docs = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                             ""};
constexpr char kSuiteDate[] = "20150830T123600Z";
constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct SuiteCase {
  std::string name, method, path, query;
  Headers extra;  // Besides host and x-amz-date.
  std::string body;
  std::string signed_headers, signature;
};

SignableRequest SuiteRequest(const SuiteCase& c) {
  SignableRequest r;
  r.method = c.method;
  r.path = c.path;
  r.query = c.query;
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}};
  r.headers.insert(r.headers.end(), c.extra.begin(), c.extra.end());
  r.payload_hash = Sha256Hex(c.body);
  return r;
}

std::string Q(const std::string& k, const std::string& v) {
  return internal::UriEncode(k, false) + "=" + internal::UriEncode(v, false);
}

TEST(SigV4, AwsTestSuite) {
  const std::string kUnreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::vector<SuiteCase> cases = {
      {"get-vanilla", "GET", "/", "", {}, "", "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query", "GET", "/", "", {}, "", "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", {}, "", "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", {}, "",
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-unreserved", "GET", "/", Q(kUnreserved, kUnreserved), {}, "",
       "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", "GET", "/", Q("\xe1\x88\xb4", "bar"), {}, "", "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved", "GET", "/" + kUnreserved, "", {}, "", "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", "GET", "/%E1%88%B4", "", {}, "", "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-header-key-duplicate", "GET", "/", "", {{"My-Header1", "value2,value2,value1"}}, "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      // The same header sent three times signs as one, values in order.
      {"get-header-key-duplicate (three lines)", "GET", "/", "",
       {{"My-Header1", "value2"}, {"my-header1", "value2"}, {"MY-HEADER1", "value1"}}, "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order", "GET", "/", "", {{"My-Header1", "value4,value1,value3,value2"}},
       "", "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim", "GET", "/", "",
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla", "POST", "/", "", {}, "", "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-header-key-sort", "POST", "/", "", {{"My-Header1", "value1"}}, "",
       "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", "POST", "/", "", {{"My-Header1", "VALUE1"}}, "",
       "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-vanilla-query", "POST", "/", "Param1=value1", {}, "", "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-vanilla-query-nonunreserved", "POST", "/",
       Q("@#$%^", "") + "&" + Q("+", "/,?><`\";:\\|][{}"), {}, "", "host;x-amz-date",
       "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"},
      {"post-vanilla-query-space", "POST", "/", "p=", {}, "", "host;x-amz-date",
       "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"},
      {"post-x-www-form-urlencoded", "POST", "/", "",
       {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-x-www-form-urlencoded-parameters", "POST", "/", "",
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, "Param1=value1",
       "content-type;host;x-amz-date",
       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
  };
  for (const SuiteCase& c : cases) {
    Signature s = ComputeSignature(SuiteRequest(c), kSuite, "us-east-1", "service", kSuiteDate);
    EXPECT_EQ(s.signature, c.signature) << c.name << "\n" << s.canonical_request;
    EXPECT_EQ(s.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=" + c.signed_headers + ", Signature=" + c.signature)
        << c.name;
  }
}

// get-vanilla's intermediate steps, as the suite publishes them.
TEST(SigV4, AwsTestSuiteCanonicalRequestAndStringToSign) {
  Signature s = ComputeSignature(SuiteRequest({"get-vanilla", "GET", "/", "", {}, "", "", ""}),
                                 kSuite, "us-east-1", "service", kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" + std::string(kEmptyHash));
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
}

// AWS's S3 examples (examplebucket, 20130524): GET with a Range, with the
// canonical request and string to sign the page shows.
TEST(SigV4, S3GetObjectWithRangeExample) {
  SignableRequest r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  r.payload_hash = kEmptyHash;
  Signature s = Sign(&r, kS3Docs, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" + std::string(kEmptyHash) +
                "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // Sign() added what it signed, and the Authorization header last.
  ASSERT_EQ(r.headers.size(), 5u);
  EXPECT_EQ(r.headers[2].first, "x-amz-date");
  EXPECT_EQ(r.headers[3], std::make_pair(std::string("x-amz-content-sha256"),
                                         std::string(kEmptyHash)));
  EXPECT_EQ(r.headers[4].second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObjectExample) {
  SignableRequest r;
  r.method = "PUT";
  r.path = "/test%24file.text";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.payload_hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(r.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Signature s = Sign(&r, kS3Docs, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3GetLifecycleAndListObjectsExamples) {
  for (auto [query, want] : {std::pair<std::string, std::string>{
                                 "lifecycle",
                                 "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
                             {"max-keys=2&prefix=J",
                              "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"}}) {
    SignableRequest r;
    r.method = "GET";
    r.path = "/";
    r.query = query;
    r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    r.payload_hash = kEmptyHash;
    EXPECT_EQ(Sign(&r, kS3Docs, "us-east-1", "s3", "20130524T000000Z").signature, want) << query;
  }
}

// Against botocore's S3SigV4Auth, the signer moto_server checks with.
TEST(SigV4, SessionTokenIsSignedAndSent) {
  SignableRequest r;
  r.method = "PUT";
  r.path = "/media/img/a.png";
  r.headers = {{"Host", "127.0.0.1:9000"}, {"Content-Length", "5"}, {"If-None-Match", "*"}};
  r.payload_hash = "UNSIGNED-PAYLOAD";
  Credentials c = kSuite;
  c.session_token = "FwoGZXIvYXdzEJr//////////wEaDEXAMPLE+token/==";
  Signature s = Sign(&r, c, "eu-west-3", "s3", "20260102T030405Z");
  EXPECT_EQ(s.signed_headers,
            "content-length;host;if-none-match;x-amz-content-sha256;x-amz-date;"
            "x-amz-security-token");
  EXPECT_EQ(s.signature, "bb0fd1b72b670f29ada26d56652c49ec45d815f5911b38d249116f72fe6c2658");
  EXPECT_EQ(r.headers[r.headers.size() - 2],
            std::make_pair(std::string("x-amz-security-token"), c.session_token));
  EXPECT_NE(s.authorization.find("/20260102/eu-west-3/s3/aws4_request"), std::string::npos);
}

TEST(SigV4, OddKeysInQueryAndPath) {
  const std::string odd = "img \xc3\xa9+&=(%/";
  SignableRequest list;
  list.method = "GET";
  list.path = "/media";
  // Out of order on purpose: the canonical query is sorted.
  list.query = "prefix=" + internal::UriEncode(odd, false) +
               "&max-keys=40&list-type=2&continuation-token=" +
               internal::UriEncode("1/ab+=", false);
  list.headers = {{"Host", "127.0.0.1:9000"}};
  list.payload_hash = kEmptyHash;
  Signature s = Sign(&list, kSuite, "eu-west-3", "s3", "20260102T030405Z");
  EXPECT_EQ(CanonicalQuery(list.query),
            "continuation-token=1%2Fab%2B%3D&list-type=2&max-keys=40&"
            "prefix=img%20%C3%A9%2B%26%3D%28%25%2F");
  EXPECT_EQ(s.signature, "4ac2f9f79dbfb0a7c5f57b80ef7dd7bc6de14a2365dd2214b4dfa1a335c6aefb");
  // A value-less parameter ("uploads") signs as "uploads=".
  EXPECT_EQ(CanonicalQuery("uploads"), "uploads=");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a=0"), "a=0&a=1&b=2");
}

// UploadPartCopy: x-amz-copy-source sorts before x-amz-copy-source-range
// by name, whatever order the lines come in (curl 7.88 sorted whole lines,
// putting "-range" first, and the server refused the signature).
TEST(SigV4, CopySourceHeadersSortByName) {
  SignableRequest r;
  r.method = "PUT";
  r.path = "/media/dir/" + internal::UriEncode("img \xc3\xa9+&=(%.bin", false);
  r.query = "uploadId=" + internal::UriEncode("abc+def=", false) + "&partNumber=3";
  r.headers = {{"Host", "127.0.0.1:9000"},
               {"Content-Length", "0"},
               {"x-amz-copy-source-range", "bytes=0-5242879"},
               {"x-amz-copy-source", "/media/src/a%20b.bin"}};
  r.payload_hash = "UNSIGNED-PAYLOAD";
  Signature s = Sign(&r, kSuite, "eu-west-3", "s3", "20260102T030405Z");
  EXPECT_EQ(s.signed_headers,
            "content-length;host;x-amz-content-sha256;x-amz-copy-source;"
            "x-amz-copy-source-range;x-amz-date");
  EXPECT_EQ(s.signature, "e31acd257623523405409ec1079c6d73526d243362ef3623d9ff1f1037671b43");
}

TEST(SigV4, AmzDateAndRegionChangeTheSignature) {
  using std::chrono::system_clock;
  EXPECT_EQ(AmzDate(system_clock::from_time_t(1440938160)), kSuiteDate);
  SuiteCase c{"get-vanilla", "GET", "/", "", {}, "", "", ""};
  std::string us = ComputeSignature(SuiteRequest(c), kSuite, "us-east-1", "service", kSuiteDate)
                       .signature;
  std::string eu = ComputeSignature(SuiteRequest(c), kSuite, "eu-central-1", "service",
                                    kSuiteDate).signature;
  EXPECT_NE(us, eu);
}

}  // namespace
}  // namespace pgmerge::storage
