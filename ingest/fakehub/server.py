"""The simulated hub served over real HTTP on 127.0.0.1, with faults on demand.

Routes (Civitai under /api/v1, Hugging Face at the root, as the real hosts have them):
    GET /api/v1/models  /api/v1/models/{id}  /api/v1/model-versions/{id}  /api/v1/images
    GET /api/models  /api/models/{owner}/{name}
Its clock: the `X-Hubwatch-As-Of: YYYY-MM-DD` request header (noon UTC that day, or later when
`late` says that day's run was late) when present, else the clock set on the server, else now.
Faults are drawn per request from a seeded generator, so a run with faults is reproducible.
"""

from __future__ import annotations

import random
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from ingest.fakehub import api
from ingest.fakehub.world import World, build_world, clock_of

AS_OF_HEADER = "X-Hubwatch-As-Of"
FAULT_KINDS = ("429", "500", "503", "empty_page", "truncated", "slow", "reset", "html")
LIST_PATHS = ("/api/v1/models", "/api/v1/images")


@dataclass
class Faults:
    """Per-request fault probabilities (by kind), or one fault on every request (`always`)."""

    rates: dict[str, float] = field(default_factory=dict)
    always: str | None = None
    retry_after: int = 1
    slow_seconds: float = 2.0
    seed: int = 0

    @classmethod
    def every_kind(cls, rate: float = 0.05, **kwargs) -> Faults:
        return cls(rates=dict.fromkeys(FAULT_KINDS, rate), **kwargs)

    def __post_init__(self) -> None:
        unknown = set(self.rates) | ({self.always} - {None})
        unknown -= set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self, path: str) -> str | None:
        if self.always:
            return self.always
        with self._lock:
            roll = self._rng.random()
        for kind, rate in self.rates.items():
            if kind == "empty_page" and path not in LIST_PATHS:
                continue
            if roll < rate:
                return kind
            roll -= rate
        return None


SECOND_HOST_PREFIX = "/sfw"
SECOND_HOST_HIDES = 4 | 8 | 16  # R, X, XXX
SECOND_HOST_SPLIT = datetime(2026, 4, 15, tzinfo=UTC)


class FakeHub:
    """Serve a World on loopback. Use as a context manager, or start()/stop()."""

    def __init__(self, world: World | None = None, faults: Faults | None = None, clock: date | datetime | None = None):
        self.world = world or build_world()
        self.faults = faults or Faults()
        self.clock: datetime | None = None
        self.set_clock(clock)
        self.late: dict[date, timedelta] = {}  # runs that saw the hub this long after noon of their date
        self.images_page_cap: int | None = None  # /images pages at most this long, whatever the limit
        self.requests = 0
        self.authorized = 0  # requests that carried an Authorization header
        self.injected: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def set_clock(self, clock: date | datetime | None) -> None:
        if isinstance(clock, datetime):
            self.clock = clock
        elif isinstance(clock, date):
            self.clock = clock_of(clock)
        else:
            self.clock = None

    @property
    def base_url(self) -> str:
        assert self._server, "FakeHub is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def civitai_base(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def civitai_second_base(self) -> str:
        """A second Civitai host, as civitai.com has been since civitai.red took the NSFW content
        (2026-04-15): the same hub, hiding the levels in SECOND_HOST_HIDES from SECOND_HOST_SPLIT on."""
        return f"{self.base_url}{SECOND_HOST_PREFIX}/api/v1"

    def hidden_levels(self, path: str, t: datetime) -> int:
        """The browsing levels the host a request went to hides at t (0: none)."""
        second = path.startswith(SECOND_HOST_PREFIX + "/")
        return SECOND_HOST_HIDES if second and t >= SECOND_HOST_SPLIT else 0

    @property
    def hf_endpoint(self) -> str:
        return self.base_url

    def start(self, port: int = 0) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fakehub = hub

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def instant(self, header: str | None) -> datetime:
        if header:
            day = date.fromisoformat(header)
            return clock_of(day) + self.late.get(day, timedelta(0))
        return self.clock or datetime.now(UTC)

    def count(self, fault: str | None, authorized: bool) -> None:
        with self._count_lock:
            self.requests += 1
            self.authorized += authorized
            if fault:
                self.injected[fault] += 1


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that timed out and hung up is expected here (the `slow` fault)."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fakehub: FakeHub
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: a response goes out in two sends (headers, body); with Nagle's algorithm the body
    # waited for the client's delayed ACK of the headers, 40 ms a request on a kept-alive connection
    disable_nagle_algorithm = True

    def log_message(self, format, *args) -> None:  # quiet: tests read results, not access logs
        return

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        hub = self.fakehub
        parts = urlsplit(self.path)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query, keep_blank_values=True)
        fault = hub.faults.draw(path)
        hub.count(fault, authorized="Authorization" in self.headers)
        if fault == "reset":
            self._reset()
            return
        if fault == "slow":
            time.sleep(hub.faults.slow_seconds)
        if fault in ("429", "500", "503"):
            headers = {"Retry-After": str(hub.faults.retry_after)} if fault in ("429", "503") else {}
            self._send(int(fault), headers, {"error": "Server busy, please retry shortly."})
            return
        if fault == "html":
            self._send_bytes(
                200, {"Content-Type": "text/html"}, b"<html><body>We're adjusting a few things</body></html>"
            )
            return
        try:
            t = hub.instant(self.headers.get(AS_OF_HEADER))
        except ValueError:
            self._send(400, {}, {"error": f"bad {AS_OF_HEADER} header"})
            return
        if fault == "empty_page":
            cursor = query.get("cursor", ["start"])[0]
            self._send(200, {}, {"items": [], "metadata": {"nextCursor": f"{cursor}|e{hub.requests}"}})
            return
        status, headers, payload = self._route(path, query, t)
        if fault == "truncated":
            body = orjson.dumps(payload)
            self._send_bytes(status, {"Content-Type": "application/json", **headers}, body[: max(1, len(body) // 2)])
            return
        self._send(status, headers, payload)

    def _route(self, path: str, query, t: datetime) -> api.Response:
        world = self.fakehub.world
        hidden = self.fakehub.hidden_levels(path, t)
        path = path.removeprefix(SECOND_HOST_PREFIX) if path.startswith(SECOND_HOST_PREFIX + "/api/v1/") else path
        if path == "/api/v1/models":
            return api.civitai_models(world, t, query, hidden)
        if path == "/api/v1/images":
            return api.civitai_images(world, t, query, self.fakehub.images_page_cap, hidden)
        if path.startswith("/api/v1/models/") and path.rsplit("/", 1)[1].isdigit():
            return api.civitai_model(world, t, int(path.rsplit("/", 1)[1]))
        if path.startswith("/api/v1/model-versions/") and path.rsplit("/", 1)[1].isdigit():
            return api.civitai_model_version(world, t, int(path.rsplit("/", 1)[1]))
        if path == "/api/models":
            return api.hf_models(world, t, query, self.fakehub.base_url)
        if path.startswith("/api/models/"):
            return api.hf_model(world, t, unquote(path.removeprefix("/api/models/")), query)
        return 404, {}, {"error": f"no route for {path}"}

    def _send(self, status: int, headers: dict[str, str], payload) -> None:
        self._send_bytes(status, {"Content-Type": "application/json", **headers}, orjson.dumps(payload))

    def _send_bytes(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST, as a flaky proxy does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
