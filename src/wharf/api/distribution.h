// The pull side of the OCI Distribution API (v1.1) on /v2/, over the local images (README,
// "Use wharf's images"):
//   GET /v2/                                   200 {} (the client is authenticated) or 401
//   GET|HEAD /v2/NAME/manifests/TAG|DIGEST     the stored manifest, its media type and digest
//   GET|HEAD /v2/NAME/blobs/DIGEST             the blob, streamed from its file; Range → 206
//   GET /v2/NAME/tags/list, GET /v2/_catalog   with n/last pagination and Link headers
//   GET /v2/token                              Docker's token endpoint (Basic credentials)
// Every other method is 405 UNSUPPORTED: nobody may push. NAME is a Docker Hub path
// ("library/ubuntu") or "<registry host>/<path>", or a path with containerd's `?ns=HOST`.
//
// Who may pull: every wharf user, with a bearer token from /v2/token (scoped to the
// repositories it named, valid `token_ttl_s`) or with Basic credentials on each request
// (verified once a minute at most, see serve/pull_tokens.h); failed credentials count in the
// login throttle. With `anonymous`, anyone who reaches the listener. Errors are the spec's
// {"errors": [{"code", "message", "detail"}]}. Thread-safe; Answer() may block on SQLite or a
// password hash (the slow lane, see LaneOf).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "wharf/api/http_message.h"
#include "wharf/api/http_server.h"
#include "wharf/base/clock.h"
#include "wharf/serve/dist_error.h"
#include "wharf/serve/pull_tokens.h"
#include "wharf/serve/served_images.h"
#include "wharf/service/auth.h"
#include "wharf/service/login_throttle.h"

namespace wharf::api {

class PullThrough;

struct DistributionOptions {
  bool enabled = true;     // [serve] enabled
  bool anonymous = false;  // [serve] anonymous
  int64_t token_ttl_s = 300;
  bool pull_through = false;          // [serve] pull_through (pull_through.h)
  int64_t pull_through_wait_s = 600;  // [serve] pull_through_wait_s
  bool tls = false;                   // the listener speaks HTTPS (the token realm's scheme)
};

class Distribution {
 public:
  // All must outlive this. `served` null: /v2/ answers 404 UNSUPPORTED.
  // `pull_through` null: a manifest that is not stored is MANIFEST_UNKNOWN.
  Distribution(DistributionOptions options, serve::ServedImages* served, service::Auth& auth,
               service::LoginThrottle& throttle, Clock& clock, PullThrough* pull_through);

  // Is this request for the Distribution API ("/v2" or under "/v2/")?
  static bool Claims(std::string_view path) { return path == "/v2" || path.starts_with("/v2/"); }
  // The slow lane for what may hash a password (the token endpoint, Basic credentials).
  HttpHandler::Lane LaneOf(const HttpRequest& head) const;
  // The whole answer; the request's body is never read.
  HttpResponse Answer(const HttpRequest& req);

 private:
  struct Target;
  serve::DistResult<serve::PullGrant> Authorize(const HttpRequest& req);
  serve::DistResult<void> Verify(const HttpRequest& req, const std::string& user,
                                 const std::string& password);
  HttpResponse Token(const HttpRequest& req);
  HttpResponse Refused(const HttpRequest& req, const serve::DistError& error,
                       const std::string& scope);
  HttpResponse Route(const HttpRequest& req, const serve::PullGrant& grant);
  HttpResponse Manifest(const HttpRequest& req, const serve::PullGrant& grant,
                        const std::string& repository, const std::string& reference);
  HttpResponse Blob(const HttpRequest& req, const std::string& repository,
                    const std::string& digest);
  HttpResponse Listing(const HttpRequest& req, const char* key, const std::string& name,
                       std::vector<std::string> items, const std::string& path);

  DistributionOptions options_;
  serve::ServedImages* served_;
  service::Auth& auth_;
  service::LoginThrottle& throttle_;
  Clock& clock_;
  serve::PullTokens tokens_;
  serve::CredentialCache credentials_;
  std::mutex verify_mu_;  // held while Basic credentials are verified
  PullThrough* pull_through_;
};

// {"errors": [{"code": ..., "message": ..., "detail": null}]} with the error's status.
HttpResponse DistErrorAnswer(const serve::DistError& error);

}  // namespace wharf::api
