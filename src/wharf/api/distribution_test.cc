// The Distribution API's answers over stored images: manifests, blobs, tag lists and the
// catalog with their headers, the spec's errors, and the refusal of every write. Who may pull:
// distribution_auth_test.cc; pull-through: pull_through_test.cc.
#include "wharf/api/distribution.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wharf/api/distribution_test_util.h"
#include "wharf/base/digest.h"

namespace wharf::api {
namespace {

// Served to anyone: what is answered does not depend on who asks (distribution_auth_test.cc), and
// no test pays for the password hash the first verification makes.
class DistributionContentTest : public DistributionTest {
 protected:
  void SetUp() override {
    options_.anonymous = true;
    busybox_ = service::PutTestImage(s_, "docker.io/library/busybox", "busybox", "1.36", "bb");
    diamond_ = service::PutTestImage(s_, "docker.io/lgsd/diamond", "lgsd/diamond", "1.0", "dia");
    s_.changes.Count();
  }
  const std::string& Layer(const metadata::ImageRecord& image) const { return image.blobs[2]; }

  metadata::ImageRecord busybox_, diamond_;
};

TEST_F(DistributionContentTest, BaseAnswersAnEmptyObject) {
  for (const std::string& target : std::vector<std::string>{"/v2/", "/v2"}) {
    HttpResponse res = Get(target);
    EXPECT_EQ(res.status, 200) << target;
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_EQ(BodyOf(res), "{}");
    EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
  }
  EXPECT_TRUE(Distribution::Claims("/v2"));
  EXPECT_TRUE(Distribution::Claims("/v2/library/busybox/tags/list"));
  EXPECT_FALSE(Distribution::Claims("/v2x"));
  EXPECT_FALSE(Distribution::Claims("/api/v1/image"));
}

TEST_F(DistributionContentTest, ManifestByTagOrDigestIsTheStoredBytesWithTheirHeaders) {
  const std::string digest = busybox_.manifest_digest;
  for (const std::string& target :
       std::vector<std::string>{"/v2/library/busybox/manifests/1.36", "/v2/busybox/manifests/1.36",
                                "/v2/library/busybox/manifests/" + digest,
                                "/v2/library/busybox/manifests/1.36?ns=docker.io",
                                "/v2/docker.io/library/busybox/manifests/1.36"}) {
    SCOPED_TRACE(target);
    HttpResponse res = Get(target);
    ASSERT_EQ(res.status, 200) << BodyOf(res);
    EXPECT_EQ(res.content_type, kOciManifest);
    EXPECT_EQ(BodyOf(res), Stored(digest));
    EXPECT_EQ(Digest::Of(BodyOf(res)).str(), digest);
    EXPECT_EQ(HeaderOf(res, "Docker-Content-Digest"), digest);
    EXPECT_EQ(HeaderOf(res, "ETag"), "\"" + digest + "\"");
    EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
    EXPECT_FALSE(res.file);
  }
  // Each repository its own image.
  HttpResponse other = Get("/v2/lgsd/diamond/manifests/1.0");
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(HeaderOf(other, "Docker-Content-Digest"), diamond_.manifest_digest);
}

// HEAD is answered as GET: the server writes the body's length as Content-Length, and no body.
TEST_F(DistributionContentTest, HeadIsAnsweredAsGet) {
  for (const std::string& target : std::vector<std::string>{
           "/v2/library/busybox/manifests/1.36", "/v2/library/busybox/blobs/" + Layer(busybox_)}) {
    SCOPED_TRACE(target);
    HttpResponse get = Get(target);
    HttpResponse head = Get(target, {}, "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.content_type, get.content_type);
    EXPECT_EQ(head.headers, get.headers);
    EXPECT_EQ(BodyOf(head), BodyOf(get));
  }
}

TEST_F(DistributionContentTest, IfNoneMatchTheDigestIsNotModified) {
  const std::string digest = busybox_.manifest_digest;
  HttpResponse same =
      Get("/v2/library/busybox/manifests/1.36", {{"If-None-Match", "\"" + digest + "\""}});
  EXPECT_EQ(same.status, 304);
  EXPECT_EQ(BodyOf(same), "");
  EXPECT_EQ(HeaderOf(same, "Docker-Content-Digest"), digest);
  EXPECT_EQ(HeaderOf(same, "ETag"), "\"" + digest + "\"");
  HttpResponse other =
      Get("/v2/library/busybox/manifests/1.36", {{"If-None-Match", "\"sha256:0\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(BodyOf(other), Stored(digest));
}

TEST_F(DistributionContentTest, BlobIsItsFileWholeOrARange) {
  const std::string layer = Layer(busybox_);
  const std::string bytes = "layer of bb";  // PutTestImage's layer for seed "bb"
  ASSERT_EQ(Digest::Of(bytes).str(), layer);
  const std::string target = "/v2/library/busybox/blobs/" + layer;
  HttpResponse whole = Get(target);
  ASSERT_EQ(whole.status, 200) << BodyOf(whole);
  ASSERT_TRUE(whole.file);  // sent from the store's file, not copied
  EXPECT_EQ(BodyOf(whole), bytes);
  EXPECT_EQ(whole.content_type, "application/octet-stream");
  EXPECT_EQ(HeaderOf(whole, "Docker-Content-Digest"), layer);
  EXPECT_EQ(HeaderOf(whole, "ETag"), "\"" + layer + "\"");
  EXPECT_EQ(HeaderOf(whole, "Accept-Ranges"), "bytes");
  EXPECT_EQ(HeaderOf(whole, "Cache-Control"), "max-age=31536000");
  EXPECT_EQ(HeaderOf(whole, "Content-Range"), "");

  struct Case {
    std::string range;
    int status;
    std::string content_range;
    std::string body;
  };
  for (const Case& c : std::vector<Case>{
           {"bytes=2-5", 206, "bytes 2-5/11", "yer "},
           {"bytes=5-", 206, "bytes 5-10/11", " of bb"},
           {"bytes=-3", 206, "bytes 8-10/11", " bb"},
           {"bytes=3-100", 206, "bytes 3-10/11", "er of bb"},
           {"bytes=0-1,4-5", 200, "", bytes},  // several ranges: the whole blob
           {"items=0-1", 200, "", bytes},
       }) {
    SCOPED_TRACE(c.range);
    HttpResponse res = Get(target, {{"Range", c.range}});
    EXPECT_EQ(res.status, c.status);
    EXPECT_EQ(HeaderOf(res, "Content-Range"), c.content_range);
    EXPECT_EQ(BodyOf(res), c.body);
    EXPECT_EQ(HeaderOf(res, "Docker-Content-Digest"), layer);
  }
  for (const std::string& range :
       std::vector<std::string>{"bytes=11-", "bytes=20-30", "bytes=-0"}) {
    SCOPED_TRACE(range);
    HttpResponse past = Get(target, {{"Range", range}});
    EXPECT_EQ(past.status, 416);
    EXPECT_EQ(HeaderOf(past, "Content-Range"), "bytes */11");
    EXPECT_FALSE(past.file);
    EXPECT_EQ(ErrorCode(past), "RANGE_INVALID") << BodyOf(past);
    EXPECT_NE(ErrorMessage(past).find("past the blob's end"), std::string::npos);
  }
}

TEST_F(DistributionContentTest, UnknownAndInvalidNamesReferencesAndBlobsAreTheSpecsErrors) {
  const std::string zeros = "sha256:" + std::string(64, '0');
  struct Case {
    std::string target;
    int status;
    std::string code;
  };
  for (const Case& c : std::vector<Case>{
           {"/v2/library/debian/manifests/latest", 404, "NAME_UNKNOWN"},
           {"/v2/library/busybox/manifests/9.9", 404, "MANIFEST_UNKNOWN"},
           {"/v2/library/busybox/manifests/" + zeros, 404, "MANIFEST_UNKNOWN"},
           {"/v2/library/busybox/manifests/" + diamond_.manifest_digest, 404, "MANIFEST_UNKNOWN"},
           {"/v2/library/busybox/manifests/sha256:xyz", 400, "DIGEST_INVALID"},
           {"/v2/library/busybox/manifests/-bad", 400, "TAG_INVALID"},
           {"/v2/library/busybox/blobs/" + Layer(diamond_), 404, "BLOB_UNKNOWN"},
           {"/v2/library/busybox/blobs/" + zeros, 404, "BLOB_UNKNOWN"},
           {"/v2/library/busybox/blobs/sha256:00", 400, "DIGEST_INVALID"},
           {"/v2/library/debian/blobs/" + Layer(busybox_), 404, "NAME_UNKNOWN"},
           {"/v2/library/debian/tags/list", 404, "NAME_UNKNOWN"},
           {"/v2/LGSD/diamond/manifests/1.0", 400, "NAME_INVALID"},
           {"/v2/lgsd/../diamond/manifests/1.0", 400, "NAME_INVALID"},
           {"/v2/" + std::string(300, 'a') + "/manifests/1.0", 400, "NAME_INVALID"},
           {"/v2/library/busybox/manifests/1.36?ns=ghcr.io", 404, "NAME_UNKNOWN"},
           {"/v2/library/busybox/manifests/1.36?ns=plainword", 400, "NAME_INVALID"},
           {"/v2/library/busybox/nothing", 404, "NAME_UNKNOWN"},
           {"/v2/library/busybox/manifests/", 404, "NAME_UNKNOWN"},
       }) {
    SCOPED_TRACE(c.target);
    HttpResponse res = Get(c.target);
    EXPECT_EQ(res.status, c.status);
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_EQ(ErrorCode(res), c.code) << BodyOf(res);
    EXPECT_FALSE(ErrorMessage(res).empty());
    EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
    EXPECT_FALSE(res.file);
  }
}

TEST_F(DistributionContentTest, ABlobGoneFromTheStoreIsUnknown) {
  auto blob = served_.Blob("docker.io/library/busybox", Layer(busybox_));
  ASSERT_TRUE(blob);
  std::filesystem::remove(blob->path);
  HttpResponse res = Get("/v2/library/busybox/blobs/" + Layer(busybox_));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(ErrorCode(res), "BLOB_UNKNOWN");
}

TEST_F(DistributionContentTest, EveryWriteIsUnsupportedAndChangesNothing) {
  options_.anonymous = false;  // refused before the credentials are looked at, or their lack
  const std::string layer = Layer(busybox_);
  for (const std::string& method :
       std::vector<std::string>{"PUT", "POST", "PATCH", "DELETE", "OPTIONS"}) {
    for (const std::string& target : std::vector<std::string>{
             "/v2/library/busybox/manifests/1.36", "/v2/library/busybox/manifests/new",
             "/v2/library/busybox/blobs/uploads/", "/v2/library/busybox/blobs/" + layer, "/v2/"}) {
      for (const Fields& headers : {Fields{}, Fields{{"authorization", kAlice}}}) {
        SCOPED_TRACE(method + " " + target);
        HttpResponse res = dist().Answer(DistRequest(method, target, headers));
        EXPECT_EQ(res.status, 405);
        EXPECT_EQ(ErrorCode(res), "UNSUPPORTED") << BodyOf(res);
        EXPECT_NE(ErrorMessage(res).find(method), std::string::npos) << ErrorMessage(res);
        EXPECT_EQ(HeaderOf(res, "Allow"), "GET, HEAD");
        EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
      }
    }
  }
  EXPECT_EQ(Get("/v2/library/busybox/blobs/" + layer).status, 200);
  EXPECT_EQ(HeaderOf(Get("/v2/library/busybox/manifests/1.36"), "Docker-Content-Digest"),
            busybox_.manifest_digest);
  EXPECT_EQ(served_.Tags("docker.io/library/busybox").value(), std::vector<std::string>{"1.36"});
  EXPECT_EQ(Verified(), 1);  // the writes did not even look at the credentials
}

TEST_F(DistributionContentTest, NotServingAnswersUnsupported) {
  options_.enabled = false;
  HttpResponse res = dist().Answer(DistRequest("GET", "/v2/", {{"authorization", kAlice}}));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(ErrorCode(res), "UNSUPPORTED");
  Distribution unserved({}, nullptr, auth_, throttle_, clock_, nullptr);
  res = unserved.Answer(DistRequest("GET", "/v2/library/busybox/manifests/1.36", {}));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(ErrorCode(res), "UNSUPPORTED");
  EXPECT_EQ(HeaderOf(res, "Docker-Distribution-API-Version"), "registry/2.0");
}

TEST_F(DistributionContentTest, TagsListPagesWithALinkToTheNext) {
  for (const std::string& tag : std::vector<std::string>{"1.35", "latest", "1.37", "musl"}) {
    service::PutTestImage(s_, "docker.io/library/busybox", "busybox", tag, "bb-" + tag);
  }
  s_.changes.Count();
  auto tags_of = [](const HttpResponse& res) {
    auto body = nlohmann::json::parse(BodyOf(res));
    return body["tags"].get<std::vector<std::string>>();
  };
  HttpResponse all = Get("/v2/library/busybox/tags/list");
  ASSERT_EQ(all.status, 200) << BodyOf(all);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(all))["name"], "library/busybox");
  EXPECT_EQ(tags_of(all), (std::vector<std::string>{"1.35", "1.36", "1.37", "latest", "musl"}));
  EXPECT_EQ(HeaderOf(all, "Link"), "");

  // A client follows the Links to the end.
  struct Page {
    std::vector<std::string> tags;
    std::string link;
  };
  std::string target = "/v2/library/busybox/tags/list?n=2";
  for (const Page& page : std::vector<Page>{
           {{"1.35", "1.36"}, "</v2/library/busybox/tags/list?n=2&last=1.36>; rel=\"next\""},
           {{"1.37", "latest"}, "</v2/library/busybox/tags/list?n=2&last=latest>; rel=\"next\""},
           {{"musl"}, ""},
       }) {
    SCOPED_TRACE(target);
    HttpResponse res = Get(target);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(tags_of(res), page.tags);
    EXPECT_EQ(HeaderOf(res, "Link"), page.link);
    if (page.link.empty()) break;
    target = page.link.substr(1, page.link.find('>') - 1);
  }
  // The name as the client wrote it, in the body and the Link.
  HttpResponse familiar = Get("/v2/busybox/tags/list?n=4");
  EXPECT_EQ(nlohmann::json::parse(BodyOf(familiar))["name"], "busybox");
  EXPECT_EQ(HeaderOf(familiar, "Link"), "</v2/busybox/tags/list?n=4&last=latest>; rel=\"next\"");

  EXPECT_EQ(tags_of(Get("/v2/library/busybox/tags/list?n=0")), std::vector<std::string>{});
  EXPECT_EQ(HeaderOf(Get("/v2/library/busybox/tags/list?n=0"), "Link"), "");
  EXPECT_EQ(tags_of(Get("/v2/library/busybox/tags/list?last=m")), std::vector<std::string>{"musl"});
  EXPECT_EQ(tags_of(Get("/v2/library/busybox/tags/list?last=zzz")), std::vector<std::string>{});
  for (const std::string& n : std::vector<std::string>{"abc", "", "-1", "1234567", "2x"}) {
    HttpResponse bad = Get("/v2/library/busybox/tags/list?n=" + n);
    EXPECT_EQ(bad.status, 400) << n;
    EXPECT_EQ(ErrorCode(bad), "PAGINATION_NUMBER_INVALID") << n;
  }
}

TEST_F(DistributionContentTest, CatalogPagesTheServedNames) {
  service::PutTestImage(s_, "ghcr.io/team/app", "ghcr.io/team/app", "v1", "app");
  s_.changes.Count();
  auto names_of = [](const HttpResponse& res) {
    return nlohmann::json::parse(BodyOf(res))["repositories"].get<std::vector<std::string>>();
  };
  HttpResponse all = Get("/v2/_catalog");
  ASSERT_EQ(all.status, 200) << BodyOf(all);
  EXPECT_EQ(names_of(all),
            (std::vector<std::string>{"ghcr.io/team/app", "lgsd/diamond", "library/busybox"}));
  EXPECT_FALSE(nlohmann::json::parse(BodyOf(all)).contains("name"));
  HttpResponse first = Get("/v2/_catalog?n=2");
  EXPECT_EQ(names_of(first), (std::vector<std::string>{"ghcr.io/team/app", "lgsd/diamond"}));
  EXPECT_EQ(HeaderOf(first, "Link"), "</v2/_catalog?n=2&last=lgsd/diamond>; rel=\"next\"");
  HttpResponse last = Get("/v2/_catalog?n=2&last=lgsd/diamond");
  EXPECT_EQ(names_of(last), std::vector<std::string>{"library/busybox"});
  EXPECT_EQ(HeaderOf(last, "Link"), "");
}

}  // namespace
}  // namespace wharf::api
