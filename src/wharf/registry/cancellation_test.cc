// Cancellation against fake servers on loopback: a server that drips its answer a byte every
// 200 ms (never stalling) is cut soon after the caller's `cancelled` turns true, at every step
// of a request (the scheme probe, a token request, the manifest, a blob, a later tag page, a
// catalog page), and so is a wait before trying again that a Retry-After made long. Each case
// cancels after 500 ms; the drips would last 20 s and the waits 30 s. The cases run side by
// side, each against its own servers, so that the whole file takes about a second.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/registry/catalog_list.h"
#include "wharf/registry/client.h"
#include "wharf/registry/http_getter.h"
#include "wharf/registry/http_transfer.h"
#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kCancelAfter{500};
// Cut "within about a second" of the cancel, with room for a loaded machine; far below the
// drip's 20 s and the Retry-After's 30 s.
constexpr milliseconds kBound{3000};

// 100 bytes, one every 200 ms: 20 s, at 5 bytes/s, well above the 1 byte/s stall limit.
FakeResponse Drip() {
  return {
      200, {{"Content-Type", "application/json"}}, std::string(100, ' '), std::string::npos, 200};
}

// A registry's own error body: its message is what error messages carry.
FakeResponse Busy() { return {503, {{"Retry-After", "30"}}, R"({"errors":[{"message":"busy"}]})"}; }

// A hook that turns true kCancelAfter from now.
std::function<bool()> CancelSoon() {
  const auto at = Clock::now() + kCancelAfter;
  return [at] { return Clock::now() >= at; };
}

Options Quick() {
  Options options;
  options.request_tries = 5;
  options.backoff_ms = 10;
  options.max_backoff_ms = 20;
  return options;
}

reference::Reference Ref(const FakeHttpServer& registry) {
  return reference::Reference{.domain = registry.host(), .path = "app", .tag = "latest"};
}

std::string Manifest(const FakeHttpServer& registry) {
  return "the manifest of " + registry.host() + "/app:latest";
}

std::string Peer(const FakeHttpServer& server) { return "registry " + server.host(); }

// One call that must end Cancelled: `call` makes it with the hook it is given and returns
// its failure (kOk if it succeeded); the message must be `message`, or start with it and
// hold `also`.
struct Case {
  std::string name;
  std::function<Status(const std::function<bool()>&)> call;
  std::string message;
  std::string also;  // "": the message is exactly `message`
  Status status;
  milliseconds took{0};
};

template <typename T>
Status FailureOf(const Result<T>& result) {
  return result ? Status{} : result.error();
}

// Runs every case at once, each with its own hook, and checks each outcome.
void RunAll(std::vector<Case>& cases) {
  std::vector<std::thread> threads;
  for (Case& c : cases) {
    threads.emplace_back([&c] {
      auto start = Clock::now();
      c.status = c.call(CancelSoon());
      c.took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    });
  }
  for (auto& t : threads) t.join();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.status.code, Code::kCancelled) << c.status.ToString();
    EXPECT_GE(c.took, kCancelAfter - milliseconds(50));  // nothing ended it before the hook
    EXPECT_LT(c.took, kBound);
    if (c.also.empty()) {
      EXPECT_EQ(c.status.message, c.message);
    } else {
      EXPECT_TRUE(c.status.message.starts_with(c.message)) << c.status.message;
      EXPECT_NE(c.status.message.find(c.also), std::string::npos) << c.status.message;
    }
  }
}

TEST(CancellationTest, ADrippingBodyIsCutInTheTransfer) {
  FakeHttpServer server([](const FakeRequest&) { return Drip(); });
  std::vector<Case> cases = {
      {"PerformHttp",
       [&](const std::function<bool()>& cancelled) {
         HttpRequest request;
         request.url = "http://" + server.host() + "/slow";
         request.peer = "server " + server.host();
         request.cancelled = cancelled;
         return FailureOf(PerformHttp(request));
       },
       "server " + server.host() + ": transfer cancelled"},
  };
  RunAll(cases);
  EXPECT_EQ(server.CountRequests("/slow"), 1);
}

TEST(CancellationTest, EveryStepOfARegistryRequestIsCutWhileItDrips) {
  // The tag (and /v2/ for the scheme probe) answer at once, the manifest drips.
  FakeHttpServer manifest([](const FakeRequest& r) {
    return r.target == "/v2/" ? FakeResponse{200, {}, "{}"} : Drip();
  });
  // The probe of a loopback host (https or http?) drips.
  FakeHttpServer probe([](const FakeRequest&) { return Drip(); });
  // A 401 sends the client to a token server, which drips.
  FakeHttpServer tokens([](const FakeRequest&) { return Drip(); });
  FakeHttpServer bearer([&](const FakeRequest& r) -> FakeResponse {
    if (r.target == "/v2/") return {200, {}, "{}"};
    return {401,
            {{"WWW-Authenticate",
              R"(Bearer realm="http://)" + tokens.host() + R"(/token",service="fake")"}},
            "{}"};
  });
  const Digest config = Digest::Of("config");
  FakeHttpServer blob([](const FakeRequest& r) {
    return r.target == "/v2/" ? FakeResponse{200, {}, "{}"} : Drip();
  });
  // The first tag page answers, with a Link to a second, which drips.
  FakeHttpServer tags([](const FakeRequest& r) -> FakeResponse {
    if (r.target == "/v2/") return {200, {}, "{}"};
    if (r.target == "/v2/app/tags/list?n=1000") {
      return {200,
              {{"Link", R"(</v2/app/tags/list?n=1000&last=a>; rel="next")"}},
              R"({"name":"app","tags":["a"]})"};
    }
    return Drip();
  });
  Client c1(Quick()), c2(Quick()), c3(Quick()), c4(Quick()), c5(Quick());

  std::vector<Case> cases = {
      {"manifest",
       [&](const auto& cancelled) {
         return FailureOf(c1.GetManifest(Ref(manifest), "latest", cancelled));
       },
       "cancelled while fetching " + Manifest(manifest) + " from " + Peer(manifest)},
      {"scheme probe",
       [&](const auto& cancelled) {
         return FailureOf(c2.GetManifest(Ref(probe), "latest", cancelled));
       },
       "cancelled while fetching " + Manifest(probe) + " from " + Peer(probe)},
      {"token",
       [&](const auto& cancelled) {
         return FailureOf(c3.GetManifest(Ref(bearer), "latest", cancelled));
       },
       "cancelled while fetching " + Manifest(bearer) + " from " + Peer(bearer),
       "(token server " + tokens.host() + " for registry " + bearer.host() +
           ": transfer cancelled)"},
      {"config blob",
       [&](const auto& cancelled) {
         return FailureOf(c4.GetSmallBlob(Ref(blob), config, cancelled));
       },
       "cancelled while fetching the blob " + config.str() + " of " + blob.host() + "/app from " +
           Peer(blob)},
      {"second tag page",
       [&](const auto& cancelled) { return FailureOf(c5.ListTags(Ref(tags), cancelled)); },
       "cancelled while fetching the tag list of " + tags.host() + "/app from " + Peer(tags)},
  };
  RunAll(cases);
  EXPECT_EQ(manifest.CountRequests("/v2/app/manifests/latest"), 1);
  EXPECT_EQ(tokens.CountRequests("/token"), 1);
  EXPECT_EQ(blob.CountRequests("/v2/app/blobs/"), 1);
  EXPECT_EQ(tags.CountRequests("/v2/app/tags/list"), 2);
  EXPECT_EQ(probe.CountRequests("/v2/app"), 0);  // cut before the manifest was asked
}

TEST(CancellationTest, TheCatalogListerAndTheHttpGetterAreCutWhileTheyDrip) {
  FakeHttpServer catalog([](const FakeRequest&) { return Drip(); });
  FakeHttpServer web([](const FakeRequest&) { return Drip(); });
  CatalogLister lister(Quick());
  HttpGetter getter(Quick());
  std::vector<Case> cases = {
      {"catalog page",
       [&](const auto& cancelled) {
         return FailureOf(
             lister.Repositories("http://" + catalog.host(), {.cancelled = cancelled}));
       },
       "cancelled while fetching the repository catalog from " + Peer(catalog)},
      {"HttpGetter",
       [&](const auto& cancelled) {
         return FailureOf(
             getter.Get({.url = "http://" + web.host() + "/x", .cancelled = cancelled}));
       },
       "server " + web.host() + ": transfer cancelled"},
  };
  RunAll(cases);
}

TEST(CancellationTest, AWaitBeforeTryingAgainIsCut) {
  FakeHttpServer manifest([](const FakeRequest& r) {
    return r.target == "/v2/" ? FakeResponse{200, {}, "{}"} : Busy();
  });
  FakeHttpServer tags([](const FakeRequest& r) {
    return r.target == "/v2/" ? FakeResponse{200, {}, "{}"} : Busy();
  });
  FakeHttpServer tokens([](const FakeRequest&) { return Busy(); });
  FakeHttpServer bearer([&](const FakeRequest& r) -> FakeResponse {
    if (r.target == "/v2/") return {200, {}, "{}"};
    return {401,
            {{"WWW-Authenticate", R"(Bearer realm="http://)" + tokens.host() + R"(/token")"}},
            "{}"};
  });
  FakeHttpServer web([](const FakeRequest&) { return Busy(); });
  Client c1(Quick()), c2(Quick()), c3(Quick());
  HttpGetter getter(Quick());
  std::vector<Case> cases = {
      {"manifest",
       [&](const auto& cancelled) {
         return FailureOf(c1.GetManifest(Ref(manifest), "latest", cancelled));
       },
       "cancelled while fetching " + Manifest(manifest) + " from " + Peer(manifest) + " (",
       "503 Service Unavailable: busy (stopped before trying again))"},
      {"tags", [&](const auto& cancelled) { return FailureOf(c2.ListTags(Ref(tags), cancelled)); },
       "cancelled while fetching the tag list of " + tags.host() + "/app from " + Peer(tags),
       "(stopped before trying again)"},
      {"token",
       [&](const auto& cancelled) {
         return FailureOf(c3.GetManifest(Ref(bearer), "latest", cancelled));
       },
       "cancelled while fetching " + Manifest(bearer) + " from " + Peer(bearer) +
           " (token server " + tokens.host(),
       "503 Service Unavailable: busy (stopped before trying again))"},
      {"HttpGetter",
       [&](const auto& cancelled) {
         return FailureOf(getter.Get(
             {.url = "http://" + web.host() + "/x", .cancelled = cancelled, .request_tries = 5}));
       },
       "HTTP 503 (stopped before trying again)"},
  };
  RunAll(cases);
  // One try each: the 30 s wait after it was cut.
  EXPECT_EQ(manifest.CountRequests("/v2/app/manifests/latest"), 1);
  EXPECT_EQ(tags.CountRequests("/v2/app/tags/list"), 1);
  EXPECT_EQ(tokens.CountRequests("/token"), 1);
  EXPECT_EQ(web.CountRequests("/x"), 1);
}

TEST(CancellationTest, ACallCancelledBeforeItStartsSendsNothing) {
  FakeHttpServer registry([](const FakeRequest&) { return FakeResponse{200, {}, "{}"}; });
  Client client(Quick());
  auto got = client.GetManifest(Ref(registry), "latest", [] { return true; });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kCancelled);
  EXPECT_EQ(got.error().message,
            "cancelled while fetching " + Manifest(registry) + " from " + Peer(registry));
  EXPECT_TRUE(registry.requests().empty());
}

}  // namespace
}  // namespace wharf::registry
