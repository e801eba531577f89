"""A Docker registry token server (the "realm" of `auth: token`) for the tests.

    issuer = TokenIssuer({"puller": ("secret", {"pull"})}).start()
    Registry(auth="token", token=issuer.registry_auth("my-service"), ...)

GET /token?service=S&scope=repository:NAME:ACTIONS (scope may repeat) with HTTP Basic
credentials answers {"token", "access_token", "expires_in", "issued_at"}: an RS256 JWT
signed with the openssl CLI by a self-signed key whose certificate is the registry's
rootcertbundle and rides in the header's x5c. Its access grants, per requested repository
scope, the requested actions the user is allowed (`users` maps a name to (password, actions)).

Anonymous requests (no Authorization) get a token with an empty access list, as Docker
Hub's auth server does for private repositories: the registry then refuses it with its own
401. Wrong credentials get 401 {"errors": [{"code": "UNAUTHORIZED", ...}]}.

Every request is recorded in `requests` ({"path" with query, "service", "scopes", "user"
(None when anonymous), "password_ok", "status", "token" (None unless issued), "time"}),
for tests about caching and about which credentials reached the issuer.
"""

import base64
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from certs import openssl
from harness import serve_http, stop_http

ISSUER = "wharf-test-issuer"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, users, expires_in=300):
        self.users = dict(users)  # name -> (password, set of actions it may have)
        self.expires_in = expires_in  # tests may change it between requests
        self.requests = []
        self._lock = threading.Lock()
        self.dir = None
        self._server = None

    @property
    def host(self):
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def realm(self):
        return f"http://{self.host}/token"

    @property
    def cert(self):
        return os.path.join(self.dir, "issuer.pem")

    def registry_auth(self, service):
        """The `auth: token:` settings of a registry that trusts this issuer."""
        return {"realm": self.realm, "service": service, "issuer": ISSUER,
                "rootcertbundle": self.cert}

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="wharf-token-issuer-")
        self.key = os.path.join(self.dir, "issuer.key")
        try:
            openssl("genrsa", "-out", self.key, "2048")
            openssl("req", "-x509", "-new", "-key", self.key, "-out", self.cert, "-days", "2",
                    "-subj", "/CN=wharf test token issuer")
            der = openssl("x509", "-in", self.cert, "-outform", "DER")
            self._x5c = [base64.b64encode(der).decode()]  # standard base64, as RFC 7515 says
            self._server = serve_http(self._handler())
        except Exception:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        return self

    def stop(self):
        if self._server:
            stop_http(self._server)
            self._server = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def seen(self, scope=None, service=None):
        """Recorded requests, those asking for `scope` and for `service` if given."""
        with self._lock:
            return [r for r in self.requests
                    if (scope is None or scope in r["scopes"])
                    and (service is None or r["service"] == service)]

    def clear(self):
        with self._lock:
            self.requests.clear()

    # --- tokens ---------------------------------------------------------------------

    def sign(self, claims):
        """A compact JWS (RS256) of `claims`, x5c in the header."""
        header = {"typ": "JWT", "alg": "RS256", "x5c": self._x5c}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = openssl("dgst", "-sha256", "-sign", self.key, input=signing_input.encode())
        return signing_input + "." + b64url(signature)

    def grant(self, user, scopes):
        """The access list for `user` (None: anonymous) asking for `scopes`."""
        if user is None:
            return []
        allowed = self.users[user][1]
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            actions = [a for a in parts[-1].split(",") if a in allowed]
            access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                           "actions": actions})
        return access

    def issue(self, user, service, scopes):
        now = int(time.time())
        expires_in = self.expires_in
        token = self.sign({"iss": ISSUER, "sub": user or "", "aud": service,
                           "exp": now + expires_in, "nbf": now - 5, "iat": now,
                           "jti": secrets.token_hex(12), "access": self.grant(user, scopes)})
        issued_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return {"token": token, "access_token": token, "expires_in": expires_in,
                "issued_at": issued_at}

    def _handler(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                user, password_ok = None, False
                auth = self.headers.get("Authorization", "")
                if auth.lower().startswith("basic "):
                    try:
                        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    except ValueError:
                        user, password = "", ""
                    password_ok = user in issuer.users and \
                        secrets.compare_digest(issuer.users[user][0], password)
                record = {"path": self.path, "service": (query.get("service") or [None])[0],
                          "scopes": query.get("scope", []), "user": user,
                          "password_ok": password_ok, "time": time.monotonic()}
                if url.path != "/token":
                    status, body = 404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]}
                elif user is not None and not password_ok:
                    status, body = 401, {"errors": [{"code": "UNAUTHORIZED",
                                                     "message": "invalid username or password"}]}
                else:
                    status = 200
                    body = issuer.issue(user, record["service"], record["scopes"])
                record["status"], record["token"] = status, body.get("token")
                with issuer._lock:
                    issuer.requests.append(record)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="wharf test issuer"')
                self.end_headers()
                self.wfile.write(data)

        return Handler
