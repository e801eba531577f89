"""The wharf API as a script drives it: a cookie jar and JSON over loopback HTTP."""

import http.client
import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from support import wait_until


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (get_all works)
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None


class ApiClient:
    """The wharf API as `curl -b cookies.txt -c cookies.txt` uses it."""

    def __init__(self, base_url, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.ProxyHandler({}))

    def request(self, method, path, body=None, form=None, headers=None):
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=self.timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def bare(self, method, path):
        """A request with the session cookie and no body nor Content-Length, as
        `curl -XPOST -b cookies.txt URL` sends it (urllib always adds a length)."""
        host = urllib.parse.urlsplit(self.base_url).netloc
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        conn = http.client.HTTPConnection(host, timeout=self.timeout)
        try:
            conn.putrequest(method, path)
            if cookie:
                conn.putheader("Cookie", cookie)
            conn.endheaders()
            resp = conn.getresponse()
            r = Response(resp.status, resp.headers, resp.read())
            return r.status, r.json
        finally:
            conn.close()

    def call(self, method, path, body=None):
        r = self.request(method, path, body=body)
        return r.status, r.json

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None):
        return self.call("POST", path, body)

    def put(self, path, body=None):
        return self.call("PUT", path, body)

    def delete(self, path):
        return self.call("DELETE", path)

    def login(self, user, password, form=True):
        creds = {"username": user, "password": password}
        r = self.request("POST", "/api/v1/login", form=creds if form else None,
                         body=None if form else creds)
        return r.status, r.json

    def logout(self):
        return self.put("/api/v1/logout")

    def local_images(self):
        status, body = self.get("/api/v1/image/?from=local")
        if status != 200:
            raise AssertionError(f"GET local listing -> {status} {body}")
        return {entry["name"]: entry for entry in body["results"]}

    def download(self, name, tag, depot="dockerhub", meta=None):
        path = f"/api/v1/image/{depot}/docker/{name}/{tag}/download"
        return self.post(path, meta if meta is not None else {})

    def download_jobs(self):
        status, body = self.get("/api/v1/image/downloadstatus")
        if status != 200:
            raise AssertionError(f"GET downloadstatus -> {status} {body}")
        return body

    @staticmethod
    def find_job(jobs, name, tag):
        for job in jobs:
            if job.get("name") == name and job.get("tag", tag) == tag:
                return job
        return None

    def wait_jobs(self, refs, timeout=120, seen=None):
        """Polls downloadstatus until every (name, tag) in refs has left the list
        (finished) or shows status "failed". Returns {(name, tag): None when
        finished, else the failed entry}. Appends every entry observed to `seen`.
        Raises TimeoutError."""
        pending = set(refs)
        results = {}

        def settled():
            jobs = self.download_jobs()
            if seen is not None:
                seen.extend(jobs)
            for ref in list(pending):
                job = self.find_job(jobs, *ref)
                if job is None or job.get("status") == "failed":
                    results[ref] = job
                    pending.discard(ref)
            return not pending

        wait_until(settled, timeout, f"downloads of {sorted(pending)}", interval=0.2)
        return results

    def wait_download(self, name, tag, timeout=120, seen=None):
        """None when the job finished, its entry when it failed."""
        return self.wait_jobs([(name, tag)], timeout, seen)[(name, tag)]


class EventStream:
    """A minimal reader of GET /api/v1/events (text/event-stream) over http.client."""

    def __init__(self, host, cookie, last_event_id=None, timeout=20):
        self.conn = http.client.HTTPConnection(host, timeout=timeout)
        headers = {"Cookie": cookie}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/api/v1/events", headers=headers)
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise AssertionError(f"GET /api/v1/events -> {self.resp.status}")

    @classmethod
    def of(cls, api, **kw):
        """The stream of an ApiClient's session."""
        return cls(urllib.parse.urlsplit(api.base_url).netloc,
                   "; ".join(f"{c.name}={c.value}" for c in api.jar), **kw)

    def events(self, until, deadline_s=60):
        """Yields (id, type, data) until `until(event)` is true or the stream ends; bounded
        in time."""
        end = time.time() + deadline_s
        event = {}
        while time.time() < end:
            line = self.resp.fp.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line == "":
                if "data" in event:
                    e = (int(event["id"]), event["event"], json.loads(event["data"]))
                    yield e
                    if until(e):
                        return
                event = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                event[key] = value
        raise AssertionError("no matching event before the deadline")

    def close(self):
        self.conn.close()
