// Test-only: what the tests of service::Updates share. A fake registry of manifests (HEAD and
// GET as docker-registry answers them, with Docker Hub's RateLimit-Remaining or failures on
// demand) and a fixture of an Updates over a real metadata database and blob store
// (TestServices) with images recorded as a download leaves them (a repo digest in `extra`) or
// as an import does (none).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wharf/base/clock.h"
#include "wharf/base/digest.h"
#include "wharf/registry/test_registry.h"
#include "wharf/service/exports_test_util.h"
#include "wharf/service/updates.h"

namespace wharf::service {

inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";

// Manifests by repository and reference (a tag or a digest), served as a registry serves them.
class Upstream {
 public:
  using Request = registry::testing::FakeRequest;
  using Response = registry::testing::FakeResponse;

  Upstream() : server_([this](const Request& request) { return Answer(request); }) {}

  std::string host() const { return server_.host(); }
  // Serves `body` under its digest and, when `tag` is not empty, under repo:tag; its digest.
  std::string Put(const std::string& repo, const std::string& tag, const std::string& media_type,
                  const std::string& body) {
    const std::string digest = Digest::Of(body).str();
    std::lock_guard lock(mu_);
    manifests_["/v2/" + repo + "/manifests/" + digest] = {media_type, body};
    if (!tag.empty()) manifests_["/v2/" + repo + "/manifests/" + tag] = {media_type, body};
    return digest;
  }
  void Forget(const std::string& repo, const std::string& tag) {
    std::lock_guard lock(mu_);
    manifests_.erase("/v2/" + repo + "/manifests/" + tag);
  }
  // Every answer from now on carries RateLimit-Remaining: `remaining` (nullopt: none).
  void SetRateRemaining(std::optional<int> remaining) {
    std::lock_guard lock(mu_);
    remaining_ = remaining;
  }
  // Every request from now on is answered `status` (0: served again).
  void SetFailing(int status) {
    std::lock_guard lock(mu_);
    failing_ = status;
  }
  int Count(const std::string& method, const std::string& prefix) const {
    int n = 0;
    for (const Request& r : server_.requests()) {
      if (r.method == method && r.target.starts_with(prefix)) ++n;
    }
    return n;
  }

 private:
  Response Answer(const Request& request) {
    std::lock_guard lock(mu_);
    if (failing_ != 0) return Response{failing_, {}, "down for maintenance"};
    auto it = manifests_.find(request.target);
    if (it == manifests_.end()) {
      return Response{404,
                      {{"Content-Type", "application/json"}},
                      R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]})"};
    }
    Response response{200,
                      {{"Content-Type", it->second.first},
                       {"Docker-Content-Digest", Digest::Of(it->second.second).str()}},
                      it->second.second};
    if (remaining_) {
      response.headers.push_back({"RateLimit-Remaining", std::to_string(*remaining_) + ";w=60"});
    }
    return response;
  }

  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> manifests_;  // → type, body
  std::optional<int> remaining_;
  int failing_ = 0;
  registry::testing::FakeHttpServer server_;  // last: it stops before the maps it reads go
};

// A manifest naming config `config` and one layer `layer` (digests), of media type `type`.
inline std::string ManifestJson(const std::string& config, const std::string& layer,
                                const std::string& type = kOciManifest) {
  return nlohmann::json{{"schemaVersion", 2},
                        {"mediaType", type},
                        {"config",
                         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", config},
                          {"size", 10}}},
                        {"layers",
                         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                           {"digest", layer},
                           {"size", 20}}}}}
      .dump();
}

// An index of (manifest digest, architecture) entries for linux.
inline std::string IndexJson(const std::vector<std::pair<std::string, std::string>>& entries) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& [digest, arch] : entries) {
    manifests.push_back({{"mediaType", kOciManifest},
                         {"digest", digest},
                         {"size", 100},
                         {"platform", {{"architecture", arch}, {"os", "linux"}}}});
  }
  return nlohmann::json{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", manifests}}
      .dump();
}

inline std::string Other(const std::string& what) { return Digest::Of(what).str(); }

class UpdatesTestBase : public ::testing::Test {
 protected:
  UpdatesTestBase() : services_(no_fetcher_) {}
  ~UpdatesTestBase() override {
    if (updates_) updates_->Stop();
  }

  std::string Name(const std::string& repo) const { return upstream_.host() + "/" + repo; }

  // A local image of `repo`:`tag` as a download records it: `repo_digest` in extra ("=": its
  // manifest's digest; "" leaves it out, as an import does).
  metadata::ImageRecord Stored(const std::string& repo, const std::string& tag,
                               const std::string& seed, const std::string& repo_digest = "=") {
    metadata::ImageRecord image = PutTestImage(services_, Name(repo), Name(repo), tag, seed);
    std::string recorded = repo_digest == "=" ? image.manifest_digest : repo_digest;
    if (!recorded.empty()) image.extra = nlohmann::json{{"repo_digest", recorded}}.dump();
    EXPECT_TRUE(services_.images.Put(image));
    services_.changes.Count();
    return image;
  }
  std::string ManifestOf(const metadata::ImageRecord& image) {
    return services_.store->Read(Digest::Parse(image.manifest_digest).value()).value();
  }
  // The image's own manifest at repo:tag; its digest.
  std::string Serve(const std::string& repo, const std::string& tag,
                    const metadata::ImageRecord& image) {
    return upstream_.Put(repo, tag, kOciManifest, ManifestOf(image));
  }

  Updates& updates() {
    if (!updates_) {
      updates_.emplace(options_, client_, services_.local, store_, &events_, lxc_);
    }
    return *updates_;
  }
  UpdateView CheckOne(const std::string& repo, const std::string& tag = "latest") {
    auto checked = updates().Check("", Name(repo), tag);
    EXPECT_TRUE(checked) << checked.error().ToString();
    return ViewOf(checked ? *checked : std::vector<UpdateView>{}, repo, tag);
  }
  UpdateView Listed(const std::string& repo, const std::string& tag = "latest") {
    auto listed = updates().List();
    EXPECT_TRUE(listed) << listed.error().ToString();
    return ViewOf(listed ? *listed : std::vector<UpdateView>{}, repo, tag);
  }
  UpdateView ViewOf(const std::vector<UpdateView>& views, const std::string& repo,
                    const std::string& tag) {
    for (const auto& view : views) {
      if (view.name == Name(repo) && view.tag == tag) return view;
    }
    ADD_FAILURE() << "no view of " << repo << ":" << tag;
    return {};
  }
  // The "update" events so far, as JSON.
  std::vector<nlohmann::json> UpdateEvents() {
    std::vector<nlohmann::json> out;
    auto sub = events_.Subscribe(0);
    while (auto event = sub->Next(0)) {
      if (event->type == "update") out.push_back(nlohmann::json::parse(event->data));
    }
    return out;
  }
  bool Flagged(const std::string& repo, const std::string& tag = "latest") {
    return updates().Available().contains({"docker", Name(repo), tag});
  }

  NoFetcher no_fetcher_;
  TestServices services_;
  metadata::UpdateStore store_{*services_.database};
  Upstream upstream_;
  FakeClock client_clock_;  // the client's waits between tries take no time
  registry::Client client_{registry::Options{.request_tries = 2, .clock = &client_clock_}};
  pull::EventBus events_;
  FakeClock clock_;
  UpdatesOptions options_{.platform = {"linux", "amd64", ""}, .clock = &clock_};
  LxcIndex lxc_;  // none: LXC images are not checked
  std::optional<Updates> updates_;
};

}  // namespace wharf::service
