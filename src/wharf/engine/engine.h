// Hand-off of Docker images to the local container engine (Docker, or Podman's Docker-compatible
// service) through the Docker Engine API on its Unix socket:
//
//   Load:   POST /images/load, Content-Type application/x-tar, the image as a docker-archive
//           streamed from the blob store (archive/image_archive.h), Content-Length known.
//   Remove: DELETE /images/NAME:TAG.
//
// The image is named by its full canonical name ("docker.io/library/ubuntu:latest"): Docker
// shows that as "ubuntu:latest", and Podman keeps it, as its own pull would (Podman's load
// puts "localhost/" before a short name). The engine's image Id is the config digest, as in
// wharf's inspect. Images pulled by digest are loaded untagged.
//
// Errors: Unavailable when the engine cannot be reached, times out (timeout_s for the whole
// call) or answers an error (its message is carried); Cancelled when *cancel was set; NotFound
// from Remove when the engine has no such image; the archive's errors as they are.
// Thread-safe: every call uses its own connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "wharf/base/status.h"
#include "wharf/content/blob_store.h"
#include "wharf/metadata/image_store.h"

namespace wharf::engine {

struct EngineOptions {
  std::string socket;             // the engine's Unix socket; empty: no hand-off
  bool remove_on_delete = false;  // a wharf delete also removes the tag from the engine
  int timeout_s = 600;            // one load or remove, from connect to the engine's answer
};

class Engine {
 public:
  // `store` must outlive the engine.
  Engine(content::BlobStore& store, EngineOptions options);

  bool enabled() const { return !options_.socket.empty(); }
  bool remove_on_delete() const { return enabled() && options_.remove_on_delete; }
  const std::string& socket() const { return options_.socket; }

  // Streams the Docker image `image` to the engine; returns once the engine has loaded it.
  // `cancel` (may be null) stops the transfer within a second when set.
  Result<void> Load(const metadata::ImageRecord& image, const std::atomic<bool>* cancel);
  // Removes the image's tag from the engine (its layers stay while another tag uses them).
  Result<void> Remove(const metadata::ImageRecord& image);
  // Whether the engine has an image under the image's name whose Id is the image's config
  // digest (GET /images/NAME:TAG/json, within 10 s). False for an image pulled by digest.
  Result<bool> Holds(const metadata::ImageRecord& image);

 private:
  content::BlobStore& store_;
  EngineOptions options_;
};

// The name the engine gets for `image`: "NAME:TAG" with the canonical name, or empty for an
// image pulled by digest.
std::string EngineReference(const metadata::ImageRecord& image);

// What an engine's answer to POST /images/load means: Docker answers 200 with a stream of JSON
// messages, one of which may be an error ({"error": ..., "errorDetail": ...}); Podman answers
// 200 with {"stream": "Loaded image: ..."} or an HTTP error with {"message": ...}. Returns the
// engine's "Loaded image" lines.
Result<std::string> LoadOutcome(long status, std::string_view body);
// The message of an error answer ({"message": ...}, else the body's start).
std::string EngineMessage(long status, std::string_view body);

}  // namespace wharf::engine
