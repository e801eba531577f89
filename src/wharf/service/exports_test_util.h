// Test-only: local Docker images put straight into the store and the image records of a
// TestServices (services_test_util.h), as a download would leave them, for the tests of
// exports (service and api).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "wharf/service/services_test_util.h"

namespace wharf::service {

// A fetcher for services that download nothing.
class NoFetcher : public pull::Fetcher {
 public:
  Result<void> Fetch(const metadata::JobRecord&, pull::JobProgress&,
                     const pull::CommitFn&) override {
    return Internal("no downloads here");
  }
};

// `data` as a blob of the store; its digest.
inline std::string PutTestBlob(TestServices& s, const std::string& data) {
  Digest d = Digest::Of(data);
  EXPECT_TRUE(s.store->Put(d, data).has_value());
  return d.str();
}

// The blobs of a Docker image of one layer (OCI media types) put into the store, and its record
// without a name, as a fetcher hands it to its commit; `seed` tells images apart, the same seed
// gives the same image.
inline metadata::ImageRecord PutTestImageBlobs(TestServices& s, const std::string& seed) {
  std::string config_json = R"({"os":"linux","seed":")" + seed + "\"}";
  std::string layer_bytes = "layer of " + seed;
  std::string config = PutTestBlob(s, config_json);
  std::string layer = PutTestBlob(s, layer_bytes);
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                      {"config",
                       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", config},
                        {"size", config_json.size()}}},
                      {"layers",
                       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                         {"digest", layer},
                         {"size", layer_bytes.size()}}}}};
  metadata::ImageRecord r;
  r.type = "docker";
  const std::string manifest = m.dump();
  r.manifest_digest = PutTestBlob(s, manifest);
  r.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
  r.manifest_size = static_cast<int64_t>(manifest.size());
  r.config_digest = config;
  r.blobs = {r.manifest_digest, config, layer};
  return r;
}

// That image stored under (canonical name, display name, tag).
inline metadata::ImageRecord PutTestImage(TestServices& s, const std::string& name,
                                          const std::string& display, const std::string& tag,
                                          const std::string& seed) {
  metadata::ImageRecord r = PutTestImageBlobs(s, seed);
  r.name = name;
  r.display_name = display;
  r.tag = tag;
  EXPECT_TRUE(s.images.Put(r).has_value());
  return r;
}

}  // namespace wharf::service
