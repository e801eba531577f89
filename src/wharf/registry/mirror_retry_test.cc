// Retries and mirrors against small fake servers on loopback: transient answers are retried
// (Retry-After honoured), permanent ones are not, a cut blob continues with a Range, a 401 to
// a cached token is answered with a fresh one, and docker.io requests go to the mirrors in
// order, falling through to the registry, each host getting only its own credentials, and an
// unavailable mirror rests. Waits run on a FakeClock, so backoff costs no time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/registry/client.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr char kManifest[] = R"({"schemaVersion":2,"mediaType":"x"})";
constexpr char kManifestType[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kBlob[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr char kPath[] = "/v2/library/app/";

reference::Reference HubRef() {
  return reference::Reference{.domain = "docker.io", .path = "library/app", .tag = "latest"};
}

// The clock of the tests that do not look at it: its sleeps return at once.
FakeClock& SharedClock() {
  static FakeClock clock;
  return clock;
}

// Options for a client whose Docker Hub is `registry`, waiting on `clock`.
Options FastOptions(const FakeHttpServer& registry, int attempts = 4,
                    Clock& clock = SharedClock()) {
  Options options;
  options.dockerhub_registry = "http://" + registry.host();
  options.request_tries = attempts;
  options.backoff_ms = 10;
  options.max_backoff_ms = 40;
  options.clock = &clock;
  return options;
}

FakeResponse ManifestResponse() { return {200, {{"Content-Type", kManifestType}}, kManifest}; }

FakeResponse Error(int status, const std::string& code, const std::string& message) {
  return {status,
          {{"Content-Type", "application/json"}},
          R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"("}]})"};
}

// Serves kBlob, honouring "Range: bytes=N-".
FakeResponse BlobFrom(const FakeRequest& request) {
  const std::string blob = kBlob;
  std::string range = request.Header("range");
  if (!range.starts_with("bytes=")) return {200, {}, blob};
  size_t from = std::stoul(range.substr(6));
  return {
      206,
      {{"Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(blob.size() - 1) +
                             "/" + std::to_string(blob.size())}},
      blob.substr(from)};
}

TEST(RetryClientTest, TransientAnswersAreRetriedUntilSuccess) {
  std::atomic<int> calls{0};
  FakeHttpServer registry([&](const FakeRequest&) {
    int n = ++calls;
    if (n == 1) return Error(503, "UNAVAILABLE", "restarting");
    if (n == 2) return Error(502, "", "bad gateway");
    return ManifestResponse();
  });
  Client client(FastOptions(registry));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->body, kManifest);
  EXPECT_EQ(registry.CountRequests(kPath), 3);
}

TEST(RetryClientTest, RetryAfterIsHonoured) {
  std::atomic<int> calls{0};
  FakeHttpServer registry([&](const FakeRequest&) {
    if (++calls == 1) {
      FakeResponse busy = Error(429, "TOOMANYREQUESTS", "slow down");
      busy.headers.push_back({"Retry-After", "1"});
      return busy;
    }
    return ManifestResponse();
  });
  FakeClock clock;
  Client client(FastOptions(registry, 4, clock));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(clock.slept(), std::chrono::seconds(1));  // not the 5-10 ms backoff
  EXPECT_EQ(registry.CountRequests(kPath), 2);
}

TEST(RetryClientTest, PersistentFailureGivesUpAfterAttemptsWithTheLastError) {
  FakeHttpServer registry(
      [](const FakeRequest&) { return Error(503, "UNAVAILABLE", "down for maintenance"); });
  Client client(FastOptions(registry, 3));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  EXPECT_NE(got.error().message.find("down for maintenance"), std::string::npos)
      << got.error().message;
  EXPECT_NE(got.error().message.find("tried 3 times"), std::string::npos) << got.error().message;
  EXPECT_EQ(registry.CountRequests(kPath), 3);
}

TEST(RetryClientTest, PermanentAnswersAreNotRetried) {
  FakeHttpServer registry(
      [](const FakeRequest&) { return Error(404, "MANIFEST_UNKNOWN", "manifest unknown"); });
  Client client(FastOptions(registry));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_EQ(registry.CountRequests(kPath), 1);
}

TEST(RetryClientTest, DeadRegistryFailsAfterAttemptsNamingIt) {
  std::string url = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  Options options;
  options.dockerhub_registry = url;
  options.request_tries = 3;
  options.backoff_ms = 10;
  options.clock = &SharedClock();
  Client client(options);
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  EXPECT_NE(got.error().message.find(url.substr(7) + ": connection refused (tried 3 times)"),
            std::string::npos)
      << got.error().message;
}

// Collects a blob through FetchBlob.
Result<BlobFetchResult> Fetch(Client& client, std::string& bytes, int64_t offset = 0) {
  return client.FetchBlob(HubRef(), Digest::Of(kBlob), {.offset = offset},
                          [&](const char* data, size_t n) -> Result<void> {
                            bytes.append(data, n);
                            return {};
                          });
}

TEST(RetryClientTest, CutBlobContinuesWithARangeFromWhereItStopped) {
  std::atomic<int> calls{0};
  FakeHttpServer registry([&](const FakeRequest& request) {
    FakeResponse response = BlobFrom(request);
    if (++calls == 1) response.cut_after = 7;
    return response;
  });
  Client client(FastOptions(registry));
  std::string bytes;
  auto got = Fetch(client, bytes);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->range_honoured);
  EXPECT_EQ(bytes, kBlob);  // each byte once, in order
  auto requests = registry.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("range"), "");
  EXPECT_EQ(requests[1].Header("range"), "bytes=7-");
}

TEST(RetryClientTest, CutBlobThenIgnoredRangeSaysSo) {
  std::atomic<int> calls{0};
  FakeHttpServer registry([&](const FakeRequest&) {
    FakeResponse response{200, {}, kBlob};
    if (++calls == 1) response.cut_after = 7;
    return response;
  });
  Client client(FastOptions(registry));
  std::string bytes;
  auto got = Fetch(client, bytes);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_FALSE(got->range_honoured);
  EXPECT_EQ(bytes, std::string(kBlob).substr(0, 7));  // what the first try delivered
}

// On the real clock: a long wait is cut by the caller, not slept to its end.
TEST(RetryClientTest, CancelledFetchStopsWaiting) {
  FakeHttpServer registry([](const FakeRequest&) { return Error(503, "", "busy"); });
  Options options = FastOptions(registry, 5, Clock::Default());
  options.backoff_ms = 5000;
  Client client(options);
  auto start = std::chrono::steady_clock::now();
  std::string bytes;
  auto got = client.FetchBlob(HubRef(), Digest::Of(kBlob),
                              {.offset = 0,
                               .cancelled =
                                   [&] {
                                     return std::chrono::steady_clock::now() - start >
                                            std::chrono::milliseconds(300);
                                   }},
                              [&](const char*, size_t) -> Result<void> { return {}; });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(RetryClientTest, RefusedCachedTokenIsReplacedOnce) {
  std::atomic<int> issued{0};
  std::atomic<int> accepted{1};  // the registry accepts "t<accepted>"
  FakeHttpServer tokens([&](const FakeRequest&) {
    return FakeResponse{200, {}, R"({"token":"t)" + std::to_string(++issued) + R"("})"};
  });
  FakeHttpServer registry([&](const FakeRequest& request) {
    if (request.Header("authorization") != "Bearer t" + std::to_string(accepted.load())) {
      FakeResponse challenge = Error(401, "UNAUTHORIZED", "authentication required");
      challenge.headers.push_back(
          {"WWW-Authenticate",
           "Bearer realm=\"http://" + tokens.host() +
               "/token\",service=\"fake\",scope=\"repository:library/app:pull\""});
      return challenge;
    }
    return ManifestResponse();
  });
  Client client(FastOptions(registry));
  ASSERT_TRUE(client.GetManifest(HubRef(), "latest"));
  EXPECT_EQ(issued.load(), 1);
  accepted = 2;  // the registry no longer takes the cached token (rotated keys, revoked...)
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(issued.load(), 2);
}

TEST(RetryClientTest, TokenServerFailuresAreRetried) {
  std::atomic<int> calls{0};
  FakeHttpServer tokens([&](const FakeRequest&) {
    if (++calls == 1) return Error(503, "", "token service restarting");
    return FakeResponse{200, {}, R"({"token":"ok"})"};
  });
  FakeHttpServer registry([&](const FakeRequest& request) {
    if (request.Header("authorization") != "Bearer ok") {
      FakeResponse challenge = Error(401, "UNAUTHORIZED", "authentication required");
      challenge.headers.push_back(
          {"WWW-Authenticate", "Bearer realm=\"http://" + tokens.host() + "/token\""});
      return challenge;
    }
    return ManifestResponse();
  });
  Client client(FastOptions(registry));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(calls.load(), 2);
}

// A mirror that has nothing, a mirror that serves, and the registry.
struct MirrorSetup {
  FakeHttpServer empty{[](const FakeRequest&) { return Error(404, "NAME_UNKNOWN", "no"); }};
  FakeHttpServer full{[](const FakeRequest& request) {
    if (request.target.find("/blobs/") != std::string::npos) return BlobFrom(request);
    return ManifestResponse();
  }};
  FakeHttpServer registry{[](const FakeRequest& request) {
    if (request.Header("authorization") != "Basic aHViOmh1YnB3") {  // hub:hubpw
      FakeResponse challenge = Error(401, "UNAUTHORIZED", "authentication required");
      challenge.headers.push_back({"WWW-Authenticate", "Basic realm=\"hub\""});
      return challenge;
    }
    if (request.target.find("/blobs/") != std::string::npos) return BlobFrom(request);
    return ManifestResponse();
  }};

  Options WithMirrors(std::vector<std::string> mirrors) const {
    Options options = FastOptions(registry);
    options.mirrors = std::move(mirrors);
    options.hosts[registry.host()] = {.username = "hub", .password = "hubpw"};
    return options;
  }
};

TEST(MirrorTest, MirrorsAreAskedInOrderAndTheFirstThatHasItServes) {
  MirrorSetup s;
  std::string dead = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  Client client(s.WithMirrors({dead, "http://" + s.empty.host() + "/", "http://" + s.full.host()}));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  std::string bytes;
  auto blob = Fetch(client, bytes);
  ASSERT_TRUE(blob) << blob.error().ToString();
  EXPECT_EQ(bytes, kBlob);
  EXPECT_EQ(s.empty.CountRequests(kPath), 2);
  EXPECT_EQ(s.full.CountRequests(kPath), 2);
  EXPECT_EQ(s.registry.requests().size(), 0u);
  // The registry's credentials never went to a mirror.
  for (const auto* mirror : {&s.empty, &s.full}) {
    for (const auto& request : mirror->requests()) {
      EXPECT_EQ(request.Header("authorization"), "") << request.target;
    }
  }
}

TEST(MirrorTest, WhenNoMirrorHasItTheRegistryServesWithItsCredentials) {
  MirrorSetup s;
  Client client(s.WithMirrors({"http://" + s.empty.host()}));
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(s.empty.CountRequests(kPath), 1);
  EXPECT_EQ(s.registry.CountRequests(kPath), 2);  // challenge, then with Basic
  EXPECT_EQ(s.registry.requests().back().Header("authorization"), "Basic aHViOmh1YnB3");
}

TEST(MirrorTest, AMirrorsWrongBytesFallThroughToTheRegistry) {
  MirrorSetup s;
  FakeHttpServer liar([](const FakeRequest&) { return FakeResponse{200, {}, "not the blob"}; });
  Client client(s.WithMirrors({"http://" + liar.host()}));
  auto config = client.GetSmallBlob(HubRef(), Digest::Of(kBlob));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(*config, kBlob);
  auto by_digest = client.GetManifest(HubRef(), Digest::Of(kManifest).str());
  ASSERT_TRUE(by_digest) << by_digest.error().ToString();
  EXPECT_EQ(by_digest->body, kManifest);
}

TEST(MirrorTest, ABlobCutOnAMirrorContinuesOnTheNextSource) {
  MirrorSetup s;
  FakeHttpServer flaky([](const FakeRequest& request) {
    FakeResponse response = BlobFrom(request);
    response.cut_after = 10;
    return response;
  });
  Client client(s.WithMirrors({"http://" + flaky.host()}));
  std::string bytes;
  auto got = Fetch(client, bytes);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(bytes, kBlob);
  ASSERT_FALSE(s.registry.requests().empty());
  EXPECT_EQ(s.registry.requests().back().Header("range"), "bytes=10-");
}

TEST(MirrorTest, AllSourcesFailingGivesTheRegistrysErrorAndTheMirrors) {
  MirrorSetup s;
  FakeHttpServer down([](const FakeRequest&) { return Error(404, "NAME_UNKNOWN", "nothing"); });
  Options options = FastOptions(down);
  options.mirrors = {"http://" + s.empty.host()};
  Client client(options);
  auto got = client.GetManifest(HubRef(), "latest");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_NE(got.error().message.find("mirrors failed first"), std::string::npos)
      << got.error().message;
}

TEST(MirrorTest, AnUnavailableMirrorRestsForThirtySeconds) {
  MirrorSetup s;
  FakeHttpServer busy([](const FakeRequest&) { return Error(503, "UNAVAILABLE", "busy"); });
  FakeClock clock;
  Options options = s.WithMirrors({"http://" + busy.host()});
  options.clock = &clock;
  Client client(options);
  ASSERT_TRUE(client.GetManifest(HubRef(), "latest"));
  EXPECT_EQ(busy.CountRequests(kPath), 1);  // once, then the registry served
  clock.Advance(std::chrono::seconds(29));
  ASSERT_TRUE(client.GetManifest(HubRef(), "latest"));
  EXPECT_EQ(busy.CountRequests(kPath), 1);  // resting: not asked
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(client.GetManifest(HubRef(), "latest"));
  EXPECT_EQ(busy.CountRequests(kPath), 2);  // asked again
}

TEST(MirrorTest, MirrorsServeOnlyDockerHubImages) {
  MirrorSetup s;
  Client client(s.WithMirrors({"http://" + s.full.host()}));
  reference::Reference other{.domain = s.registry.host(), .path = "library/app", .tag = "latest"};
  (void)client.GetManifest(other, "latest");
  EXPECT_EQ(s.full.requests().size(), 0u);
}

}  // namespace
}  // namespace wharf::registry
