"""The events stream, cancel and /metrics: progress events arrive while a slow
download runs, a reconnect with Last-Event-ID replays what was missed, a cancel
stops the download and leaves nothing behind, a slow stream client does not
block wharfd, and /metrics counts what happened."""

import socket
import unittest
import urllib.parse

from api_client import EventStream
from fixtures import FixtureBuilder
from harness import Registry, ThrottleProxy, WharfTestCase, Wharfd, wait_until

MiB = 1024 * 1024


class EventsTest(WharfTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = cls.serve(Registry())
        with FixtureBuilder(cls.registry) as fx:
            cls.slow = fx.big("lgsd/slow", "latest", size=6 * MiB)
            fx.big("lgsd/cancel", "latest", size=12 * MiB)
        cls.proxy = cls.serve(ThrottleProxy(cls.registry.host, rate=2 * MiB))
        cls.wharfd = cls.serve(Wharfd(cls.proxy.url))

    def test_1_progress_events_then_done_and_replay(self):
        api = self.wharfd.client()
        stream = EventStream.of(api)
        self.assertEqual(stream.resp.status, 200)
        self.assertTrue(stream.resp.getheader("Content-Type").startswith("text/event-stream"))
        status, _ = api.download("lgsd/slow", "latest")
        self.assertEqual(status, 200)
        seen = list(stream.events(
            lambda e: e[1] == "image" and e[2]["name"] == "lgsd/slow"))
        stream.close()
        ids = [e[0] for e in seen]
        self.assertEqual(ids, sorted(ids))
        jobs = [e[2] for e in seen if e[1] == "job" and e[2]["name"] == "lgsd/slow"]
        statuses = [j["status"] for j in jobs]
        self.assertEqual(statuses[0], "waiting")
        self.assertIn("downloading", statuses)
        self.assertEqual(statuses[-1], "done")
        self.assertEqual(jobs[-1]["percent"], 100)
        progress = [j for j in jobs if j["status"] == "downloading" and j["bytes_total"] > 0]
        self.assertTrue(any(0 < j["bytes_done"] < j["bytes_total"] for j in progress),
                        "no intermediate progress event: " + str(statuses))
        done_bytes = [j["bytes_done"] for j in progress]
        # Bytes per layer: the manifest's layers, each within its size, adding up to no more
        # than the total (which also counts the config).
        layered = [j for j in progress if j.get("layers")]
        self.assertTrue(layered, "no event with per-layer progress")
        for j in layered:
            self.assertEqual([lay["digest"] for lay in j["layers"]], self.slow.layers)
            for lay in j["layers"]:
                self.assertTrue(0 <= lay["bytes_done"] <= lay["bytes_total"], lay)
            self.assertLessEqual(sum(lay["bytes_done"] for lay in j["layers"]), j["bytes_done"])
        self.assertTrue(any(0 < lay["bytes_done"] < lay["bytes_total"]
                            for j in layered for lay in j["layers"]),
                        "no layer seen part-way")
        self.assertEqual(done_bytes, sorted(done_bytes))
        image = seen[-1][2]
        self.assertEqual((image["action"], image["type"], image["tag"]),
                         ("added", "docker", "latest"))
        # A client that reconnects after the first event gets everything after it.
        replay = EventStream.of(api, last_event_id=ids[0])
        again = list(replay.events(lambda e: e[0] == ids[-1], deadline_s=10))
        replay.close()
        self.assertEqual([e[0] for e in again], ids[1:])

    def test_2_cancel_stops_and_leaves_nothing(self):
        api = self.wharfd.client()
        self.assertEqual(api.download("lgsd/cancel", "latest")[0], 200)
        wait_until(lambda: (api.find_job(api.download_jobs(), "lgsd/cancel", "latest") or {})
                   .get("bytes_done", 0) > MiB, 30, "download in progress")
        stream = EventStream.of(api)
        status, body = api.delete("/api/v1/image/downloadstatus/docker/lgsd/cancel/latest")
        self.assertEqual((status, body), (200, {}))
        list(stream.events(lambda e: e[1] == "job" and e[2]["name"] == "lgsd/cancel"
                           and e[2]["status"] == "cancelled", deadline_s=20))
        stream.close()
        wait_until(lambda: api.find_job(api.download_jobs(), "lgsd/cancel", "latest") is None,
                   10, "cancelled job gone from downloadstatus")
        self.assertNotIn("lgsd/cancel", api.local_images())
        self.assertEqual(self.wharfd.settled_temp_files(), [])
        # Nothing of it is left in the store: only the first image's blobs remain.
        wait_until(lambda: not any(p.endswith(".partial")
                                   for p in self.wharfd.leftover_temp_files()),
                   10, "partial blobs removed")
        status, body = api.delete("/api/v1/image/downloadstatus/docker/lgsd/cancel/latest")
        self.assertError(status, body, 404)

    def test_3_stuck_client_does_not_block(self):
        api = self.wharfd.client()
        # A client that subscribes and never reads.
        host, port = urllib.parse.urlsplit(api.base_url).netloc.split(":")
        stuck = socket.create_connection((host, int(port)))
        cookie = "; ".join(f"{c.name}={c.value}" for c in api.jar)
        stuck.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"
                      .encode())
        try:
            for _ in range(20):
                status, _ = api.get("/api/v1/image/?from=local")
                self.assertEqual(status, 200)
        finally:
            stuck.close()

    def test_4_metrics_count_what_happened(self):
        resp = self.wharfd.client(login=False).request("GET", "/metrics")
        self.assertEqual(resp.status, 200)
        text = resp.raw.decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                values[key] = float(value)
        self.assertGreaterEqual(values['wharf_downloads_total{outcome="done"}'], 1)
        self.assertGreaterEqual(values['wharf_downloads_total{outcome="cancelled"}'], 1)
        self.assertGreater(values["wharf_pulled_bytes_total"], 6 * MiB)
        self.assertGreater(values["wharf_store_bytes"], 6 * MiB)
        self.assertGreaterEqual(values['wharf_http_requests_total{route="list",status="200"}'], 20)
        self.assertIn("# TYPE wharf_downloads_total counter", text)


if __name__ == "__main__":
    unittest.main()
