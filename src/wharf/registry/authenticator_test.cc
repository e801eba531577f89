// Where a registry's credentials may go: the rule itself, and a client against fake registries
// whose token realm is on the registry's own port or on another one.
#include "wharf/registry/authenticator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wharf/registry/test_registry.h"

namespace wharf::registry {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

struct RealmCase {
  std::string request_url;
  std::string realm;
  bool docker_hub;
  bool may;
};

TEST(AuthenticatorTest, CredentialsGoOnlyToTheRegistrysOwnHost) {
  const std::vector<RealmCase> cases = {
      {"https://reg.example/v2/a/manifests/1", "https://reg.example/token", false, true},
      {"https://reg.example/v2/a/manifests/1", "https://reg.example:443/token?x=1", false, true},
      {"https://reg.example:5000/v2/", "https://REG.example:5000/token", false, true},
      {"http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/token", false, true},
      {"http://127.0.0.1:5000/v2/", "https://127.0.0.1:5000/token", false, true},
      // Another host, another port of the same address, plain HTTP from an https registry.
      {"https://reg.example/v2/", "https://auth.example/token", false, false},
      {"http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/token", false, false},
      {"https://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/token", false, false},
      {"https://reg.example/v2/", "http://reg.example:443/token", false, false},
      {"https://reg.example/v2/", "token", false, false},
      {"https://reg.example/v2/", "", false, false},
      // Docker Hub's registry and its token server, over TLS only.
      {"https://registry-1.docker.io/v2/", "https://auth.docker.io/token", true, true},
      {"https://registry-1.docker.io/v2/", "https://auth.docker.io/token", false, false},
      {"https://registry-1.docker.io/v2/", "http://auth.docker.io/token", true, false},
      {"https://registry-1.docker.io/v2/", "https://auth.docker.io:8443/token", true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request_url + " -> " + c.realm);
    EXPECT_EQ(MaySendCredentials(c.request_url, c.realm, c.docker_hub), c.may);
  }
}

// A registry that demands a token from `realm` (on its own port when `realm` is empty) and
// accepts the token "t"; its own /token wants the credentials bob:pw.
class TokenRealmRegistry {
 public:
  explicit TokenRealmRegistry(std::string realm = "") : realm_(std::move(realm)) {}

  std::string host() const { return server_.host(); }
  std::vector<FakeRequest> requests() const { return server_.requests(); }
  reference::Reference Ref() const { return {.domain = host(), .path = "foo", .tag = "latest"}; }

 private:
  FakeResponse Serve(const FakeRequest& r) const {
    if (r.target.starts_with("/token")) {
      if (r.Header("authorization") != "Basic Ym9iOnB3") return {401, {}, "{}"};
      return {200, {{"Content-Type", "application/json"}}, R"({"token":"t"})"};
    }
    if (r.Header("authorization") != "Bearer t") {
      std::string realm = realm_.empty() ? "http://" + host() + "/token" : realm_;
      return {401, {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"reg\""}}, "{}"};
    }
    if (r.target == "/v2/") return {200, {}, "{}"};
    return {200,
            {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
            R"({"schemaVersion":2,"config":{},"layers":[]})"};
  }

  std::string realm_;
  FakeHttpServer server_{[this](const FakeRequest& r) { return Serve(r); }};
};

Options WithCredentials(const std::string& host) {
  Options options;
  options.request_tries = 1;
  options.hosts[host] = {.username = "bob", .password = "pw"};
  return options;
}

TEST(AuthenticatorTest, ARealmOnTheRegistrysPortGetsTheCredentials) {
  TokenRealmRegistry registry;
  Client client(WithCredentials(registry.host()));
  auto got = client.GetManifest(registry.Ref(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  int token_requests = 0;
  for (const auto& r : registry.requests()) {
    if (!r.target.starts_with("/token")) continue;
    ++token_requests;
    EXPECT_EQ(r.Header("authorization"), "Basic Ym9iOnB3");
  }
  EXPECT_EQ(token_requests, 1);
}

TEST(AuthenticatorTest, ARealmOnAnotherPortIsAskedAnonymously) {
  std::vector<std::string> authorizations;
  std::mutex mu;
  FakeHttpServer realm([&](const FakeRequest& r) -> FakeResponse {
    std::lock_guard lock(mu);
    authorizations.push_back(r.Header("authorization"));
    return {200, {{"Content-Type", "application/json"}}, R"({"token":"t"})"};
  });
  TokenRealmRegistry registry("http://" + realm.host() + "/token");
  Client client(WithCredentials(registry.host()));
  auto got = client.GetManifest(registry.Ref(), "latest");
  ASSERT_TRUE(got) << got.error().ToString();
  std::lock_guard lock(mu);
  ASSERT_EQ(authorizations.size(), 1u);
  EXPECT_EQ(authorizations[0], "");
}

}  // namespace
}  // namespace wharf::registry
