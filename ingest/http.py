"""The one polite HTTP client every crawler uses.

It names hubwatch in its User-Agent, paces requests, retries what is worth retrying (429, 5xx,
connection faults, bodies that are not the JSON they claim to be) with exponential backoff and
jitter, honours Retry-After, and gives up loudly after a bounded number of attempts or a bounded
time per request (waits included), whichever comes first. Secrets go in headers only, and only to
the origin they were configured for (a paging link or a redirect to another host gets none); URLs
are redacted (`redact_url`: no userinfo, no token-like query parameter) before they reach a log
line, a file or a run record.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import logging
import math
import os
import re
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay
from tenacity.wait import wait_base, wait_exponential_jitter

from ingest import __version__
from ingest.errors import CrawlError

PROJECT_URL = "https://github.com/hubwatch/hubwatch"
USER_AGENT = f"hubwatch/{__version__} (+{PROJECT_URL})"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# query parameter names that carry credentials: tokens, keys, passwords, signatures (S3, SAS, ...)
SECRET_QUERY_KEY = re.compile(
    r"token|secret|passw|pwd|api[-_]?key|^key$|^auth$|^auth[-_]|authori[sz]ation|signature|^sig$|credential|session",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}

log = logging.getLogger("hubwatch.http")


class TransientError(Exception):
    """A failure worth retrying: the server or the network may recover."""

    def __init__(self, kind: str, detail: str, retry_after: float | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class Politeness:
    """How hard hubwatch may lean on a server. Every field can be set from the environment."""

    requests_per_second: float = 1.0
    max_retries: int = 6
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 60.0
    request_budget: float = 300.0  # seconds for one request: every attempt and every wait

    @classmethod
    def from_env(cls) -> Politeness:
        return cls(
            requests_per_second=env_number("HUBWATCH_RATE", cls.requests_per_second, float),
            max_retries=env_number("HUBWATCH_MAX_RETRIES", cls.max_retries, int),
            backoff_initial=env_number("HUBWATCH_BACKOFF_INITIAL", cls.backoff_initial, float),
            backoff_max=env_number("HUBWATCH_BACKOFF_MAX", cls.backoff_max, float),
            timeout=env_number("HUBWATCH_TIMEOUT", cls.timeout, float, minimum=0.001),
            request_budget=env_number("HUBWATCH_REQUEST_BUDGET", cls.request_budget, float, minimum=0.001),
        )


def env_number(name: str, default, kind: type = float, minimum: float = 0):
    """A numeric setting from the environment (default when unset); a one-line error otherwise."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        expected = "a whole number" if kind is int else "a number"
        raise CrawlError(f"{name}={raw!r} is not {expected}") from None
    if not math.isfinite(value) or value < minimum:
        raise CrawlError(f"{name}={raw!r} must be a finite number of at least {minimum:g}")
    return value


@dataclass(frozen=True)
class Credentials:
    """Headers that authenticate hubwatch to one origin, and only to it."""

    origin: tuple[str, str, int]
    headers: dict[str, str]

    @classmethod
    def for_base(cls, base_url: str, token: str | None) -> Credentials | None:
        """A bearer token for the base URL's origin; else the user:password the URL carried (Basic)."""
        url = httpx.URL(base_url)
        if token:
            return cls(origin_of(url), {"Authorization": f"Bearer {token}"})
        if url.username or url.password:
            pair = f"{url.username}:{url.password}".encode()
            return cls(origin_of(url), {"Authorization": f"Basic {base64.b64encode(pair).decode()}"})
        return None

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(origin={self.origin!r}, headers=[{', '.join(self.headers)}])"


def origin_of(url: httpx.URL | str) -> tuple[str, str, int]:
    url = httpx.URL(str(url))
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme, 0)


def strip_userinfo(url: str) -> str:
    """The URL without user:password@ (credentials are carried separately, see Credentials)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


@dataclass(frozen=True)
class Fetched:
    """One response as received, with what is needed to store it as evidence."""

    url: str  # redacted: safe to store and log
    status: int
    body: bytes
    payload: Any
    links: dict[str, dict[str, str]]
    fetched_at: datetime
    attempts: int


def redact_url(url: str) -> str:
    """The URL as it may be stored or logged: no user:password@, no token-like query parameter.

    Every URL hubwatch writes (page meta, manifest host, params and source_url, log lines, run
    records) goes through here; a URL with nothing to remove comes back unchanged.
    """
    url = strip_userinfo(url)
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not SECRET_QUERY_KEY.search(k)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def redact_host(url: str) -> str:
    """host[:port] of a URL, never its userinfo (what a manifest records as `host`)."""
    return urlsplit(strip_userinfo(url)).netloc


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class wait_retry_after_or_backoff(wait_base):
    """Wait what the server asked for (capped), else exponential backoff with jitter."""

    def __init__(self, politeness: Politeness):
        self.max_retry_after = politeness.max_retry_after
        self.backoff = wait_exponential_jitter(
            multiplier=politeness.backoff_initial,
            max=politeness.backoff_max,
            jitter=politeness.backoff_initial,
        )

    def __call__(self, retry_state) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        return self.backoff(retry_state)


@functools.cache
def tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's own default TLS context (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR: the
    arguments key the cache), built once per process: loading the bundle costs ~0.2 s of CPU, which
    every snapshot (one client each) paid again."""
    return httpx.create_ssl_context()


class PoliteClient:
    """An httpx client with pacing, retries and a tally of the transient errors it survived."""

    def __init__(
        self,
        politeness: Politeness | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        credentials: Credentials | None = None,
    ):
        self.politeness = politeness or Politeness.from_env()
        self.credentials = credentials
        self.error_counts: Counter[str] = Counter()
        self._next_slot = 0.0
        self._lock = threading.Lock()
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(self.politeness.timeout, connect=min(10.0, self.politeness.timeout)),
            follow_redirects=True,
            transport=transport,
            verify=tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_json(self, url: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Fetched:
        """GET a JSON document, retrying transient failures; raise CrawlError when it can't."""
        request = self._client.build_request("GET", url, params=params)
        if self.credentials and origin_of(request.url) == self.credentials.origin:
            request.headers.update(self.credentials.headers)  # never to another origin (a paging link)
        shown = redact_url(str(request.url))
        budget = self.politeness.request_budget
        deadline = time.monotonic() + budget
        retrying = Retrying(
            stop=stop_after_attempt(self.politeness.max_retries + 1) | stop_before_delay(budget),
            wait=wait_retry_after_or_backoff(self.politeness),
            retry=retry_if_exception_type(TransientError),
            before_sleep=lambda state: self._note_retry(shown, state),
        )
        try:
            for attempt in retrying:
                with attempt:
                    fetched = self._attempt(request, shown, deadline)
                    return Fetched(**{**fetched.__dict__, "attempts": attempt.retry_state.attempt_number})
        except RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            tries = gave_up.last_attempt.attempt_number
            if tries <= self.politeness.max_retries:
                raise CrawlError(
                    f"giving up on {shown} after {tries} attempt{'s' if tries > 1 else ''}: no answer within the "
                    f"{budget:g} s a request may take, waits included (HUBWATCH_REQUEST_BUDGET): {last}"
                ) from None
            raise CrawlError(f"giving up on {shown} after {tries} attempts: {last}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, request: httpx.Request, shown: str, deadline: float) -> Fetched:
        self._pace()
        left = deadline - time.monotonic()
        if left <= 0:
            raise TransientError("timeout", f"no time left to ask {shown}")
        timeout = min(self.politeness.timeout, left)
        request.extensions["timeout"] = httpx.Timeout(timeout, connect=min(10.0, timeout)).as_dict()
        try:
            response = self._client.send(request, stream=True)
            try:
                body = _read_before(response, deadline, shown)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise TransientError("timeout", f"{type(exc).__name__} on {shown}") from None
        except httpx.TransportError as exc:
            raise TransientError("connection", f"{type(exc).__name__} on {shown}") from None
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise TransientError(str(status), f"HTTP {status} from {shown}", retry_after)
        if status >= 400:
            raise CrawlError(f"HTTP {status} from {shown}: {_snippet(body)}")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            kind = response.headers.get("Content-Type", "no content type")
            raise TransientError("invalid_json", f"body of {shown} is not JSON ({kind}): {_snippet(body)}") from None
        return Fetched(
            url=shown,
            status=status,
            body=body,
            payload=payload,
            links=_links(response),
            fetched_at=datetime.now(UTC),
            attempts=1,
        )

    def take_errors(self) -> Counter[str]:
        """The transient errors survived since the last call (they go into the manifest)."""
        taken, self.error_counts = self.error_counts, Counter()
        return taken

    def _note_retry(self, shown: str, state) -> None:
        error = state.outcome.exception()
        kind = getattr(error, "kind", type(error).__name__)
        self.error_counts[kind] += 1
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "retrying %s after %s (attempt %d of %d, waiting %.2fs)",
            shown,
            kind,
            state.attempt_number,
            self.politeness.max_retries + 1,
            wait,
        )

    def _pace(self) -> None:
        """Keep request starts at least 1/requests_per_second apart."""
        rate = self.politeness.requests_per_second
        if rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot)
            self._next_slot = start + 1.0 / rate
        if start > now:
            time.sleep(start - now)


def _read_before(response: httpx.Response, deadline: float, shown: str) -> bytes:
    """The body, read chunk by chunk so that a server dripping bytes cannot outlast the budget."""
    chunks = []
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TransientError("timeout", f"body of {shown} still arriving when the request's time ran out")
    return b"".join(chunks)


def _links(response: httpx.Response) -> dict[str, dict[str, str]]:
    try:
        return {key: {k: str(v) for k, v in link.items()} for key, link in response.links.items()}
    except Exception:  # a malformed Link header is not worth failing a page for
        return {}


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return text + ("…" if len(body) > limit else "")
