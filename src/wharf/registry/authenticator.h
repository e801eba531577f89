// Answers registries' authentication challenges. A request first goes out with what earlier
// challenges taught (a cached Bearer token, or Basic credentials for a host that asked for
// Basic), else anonymously; on a 401 the challenge is answered: Bearer is preferred when
// offered (a token is obtained from the realm, with the host's credentials if any, and cached
// per host and scope until it expires), Basic is used when credentials are configured.
//
// Credentials go only to the registry's own host: a token request carries them only when the
// realm is on the registry's host and port (MaySendCredentials); a realm elsewhere (another
// host, another port of the same address) gets an anonymous token request, and a warning is
// logged. Docker Hub's registry may send them to its token server, auth.docker.io, over TLS.
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/base/status.h"
#include "wharf/registry/client.h"
#include "wharf/registry/endpoints.h"
#include "wharf/registry/token_cache.h"

namespace wharf::registry {

// True if the credentials of the registry reached at `request_url` may go with a token request
// to `realm`: the realm is on the same host and port (scheme aside), and over TLS unless the
// registry itself is reached over plain HTTP; or `docker_hub` (the registry is Docker Hub's)
// and the realm is https://auth.docker.io.
bool MaySendCredentials(std::string_view request_url, std::string_view realm, bool docker_hub);

// "repository:library/ubuntu:pull", the scope a pull of `path` needs.
std::string PullScope(std::string_view path);

class Authenticator {
 public:
  // Tokens age on the endpoints' Options::clock. When a host's settings change, its tokens
  // and what its challenges taught are forgotten.
  explicit Authenticator(const Endpoints& endpoints)
      : endpoints_(endpoints),
        tokens_(*endpoints.options().clock),
        forget_(endpoints.directory().Subscribe([this](const std::string& host) {
          // Settings under "docker.io" are Docker Hub's (see Endpoints::Host).
          for (const std::string& key :
               {host, host == "docker.io" ? "registry-1.docker.io" : host}) {
            tokens_.DropHost(key);
            std::lock_guard lock(mu_);
            basic_hosts_.erase(key);
          }
        })) {}

  // The Authorization value to send first to `host_key` for `scope`, or "" for anonymous.
  std::string Known(const std::string& host_key, const std::string& scope) const;

  // The Authorization value to retry with after a 401 from `request_url` on `host_key`
  // carrying `challenges`. `refused` is the value the 401 answered ("" if anonymous), which
  // is never offered again. A token request polls `cancelled` (may be unset) during its
  // transfers and its waits between tries. Errors: Unauthenticated when there is nothing
  // (more) to try, the token server's failure, or Cancelled "token server HOST for registry
  // HOST: ..." when `cancelled` said so.
  Result<std::string> Answer(const std::string& host_key, const std::string& request_url,
                             const std::vector<Challenge>& challenges,
                             const std::string& default_scope, const std::string& refused,
                             const std::function<bool()>& cancelled = {});

 private:
  Result<std::string> AnswerBearer(const std::string& host_key, const std::string& request_url,
                                   const Challenge& challenge, const std::string& default_scope,
                                   const std::string& refused,
                                   const std::function<bool()>& cancelled);
  Result<std::string> AnswerBasic(const std::string& host_key, const std::string& refused);
  // GET realm?service=...&scope=... → a fresh token, also cached under (host, scope).
  Result<std::string> FetchToken(const std::string& host_key, const std::string& request_url,
                                 const Challenge& challenge, const std::string& scope,
                                 const std::function<bool()>& cancelled);

  const Endpoints& endpoints_;
  TokenCache tokens_;
  mutable std::mutex mu_;
  std::set<std::string> basic_hosts_;   // hosts that challenged with Basic
  HostDirectory::Subscription forget_;  // last: unsubscribes before the rest goes
};

}  // namespace wharf::registry
