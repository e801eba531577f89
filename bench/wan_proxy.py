"""A TCP proxy on loopback that makes a wide-area link of a local server: every byte is
delayed by half the round-trip time in each direction and paced to the link's bandwidth.

    with LatencyProxy(rtt_s=0.04, bits_per_s=100e6) as wan:
        registry = wan.expose(("127.0.0.1", 5000))   # "127.0.0.1:PORT" to talk to instead
        issuer = wan.expose(("127.0.0.1", 5001))

Per connection: what the client sends reaches the server RTT/2 after the link finished
sending it, and the answer likewise; a new connection's first bytes also wait one more RTT
(the SYN and SYN-ACK that loopback does not delay). Links are shared: the proxies of one
scenario pass the same `down` and `up`, so parallel connections divide the bandwidth as they
would on one line: every server exposed through one proxy is behind the same line. Each
chunk read (at most 64 KiB) is one unit of pacing; the proxy reads
eagerly (no backpressure: the scenario's data is small). Bytes carried are counted per
direction (`down.bytes`, `up.bytes`), and each HTTP request's line as it reaches the server,
with its time (`requests`: a chunk sent up that starts with a method is a request). Runs its own asyncio loop on a thread; `expose` and
`stop` may be called from any thread.
"""

import asyncio
import threading

CHUNK = 64 * 1024
METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ")


class Link:
    """One direction of a line: serializes what is sent at `bits_per_s`."""

    def __init__(self, bits_per_s):
        self.rate = bits_per_s / 8
        self.free_at = 0.0
        self.bytes = 0

    def send(self, n, now):
        """Time at which the last of `n` bytes handed over at `now` has left."""
        start = max(now, self.free_at)
        self.free_at = start + n / self.rate
        self.bytes += n
        return self.free_at


class LatencyProxy:
    def __init__(self, rtt_s, bits_per_s):
        self.rtt = rtt_s
        self.down, self.up = Link(bits_per_s), Link(bits_per_s)
        self.connections = 0
        self.requests = []  # (loop time delivered, connection number, request line)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers = []

    def start(self):
        self._thread.start()
        return self

    def expose(self, upstream):
        """Listens on a free loopback port for `upstream` ((host, port)); "127.0.0.1:PORT"."""
        fut = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(lambda r, w: self._accept(r, w, upstream), "127.0.0.1", 0),
            self._loop)
        server = fut.result(30)
        self._servers.append(server)
        return f"127.0.0.1:{server.sockets[0].getsockname()[1]}"

    def reset_counts(self):
        self.connections = 0
        self.requests = []
        self.down.bytes = self.up.bytes = 0

    def now(self):
        """The proxy's clock (that of `requests`)."""
        return self._loop.time()

    def stop(self):
        async def close():
            for server in self._servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            # Let them finish their cancellation here, not after the loop has closed.
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    async def _accept(self, client_r, client_w, upstream):
        self.connections += 1
        number = self.connections
        try:
            server_r, server_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(self._pipe(client_r, server_w, self.up, self.rtt, number),
                                 self._pipe(server_r, client_w, self.down, 0.0),
                                 return_exceptions=True)
        except asyncio.CancelledError:  # the proxy stops
            pass
        finally:
            for w in (client_w, server_w):
                w.close()

    async def _pipe(self, reader, writer, link, handshake_s, number=None):
        """Carries one direction: each chunk is delivered once the link sent it, plus
        RTT/2 (plus `handshake_s` for the connection's first chunk)."""
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def read():
            extra = handshake_s
            while True:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    data = b""
                now = loop.time()
                due = link.send(len(data), now) + self.rtt / 2 + extra
                extra = 0.0
                await queue.put((due, data))
                if not data:
                    return

        reading = asyncio.ensure_future(read())
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                if number is not None and data.startswith(METHODS):
                    line = data.split(b"\r\n", 1)[0].decode("latin-1")
                    self.requests.append((loop.time(), number, line))
                writer.write(data)
                await writer.drain()
        except OSError:
            return
        finally:
            reading.cancel()
