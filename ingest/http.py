"""The one polite HTTP client every crawler uses.

It names hubwatch in its User-Agent, paces requests, retries what is worth retrying (429, 5xx,
connection faults, bodies that are not the JSON they claim to be) with exponential backoff and
jitter, honours Retry-After, and gives up loudly after a bounded number of attempts. Secrets go
in headers only and are never logged: URLs are redacted before they reach a log line or a file.
"""

from __future__ import annotations

import email.utils
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from ingest import __version__

PROJECT_URL = "https://github.com/hubwatch/hubwatch"
USER_AGENT = f"hubwatch/{__version__} (+{PROJECT_URL})"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
SECRET_QUERY_KEYS = frozenset({"token", "api_key", "apikey", "key", "access_token", "auth"})

log = logging.getLogger("hubwatch.http")


class CrawlError(RuntimeError):
    """A crawl cannot go on; the message is one line a person can act on."""


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

    @classmethod
    def from_env(cls) -> Politeness:
        env = os.environ
        return cls(
            requests_per_second=float(env.get("HUBWATCH_RATE", cls.requests_per_second)),
            max_retries=int(env.get("HUBWATCH_MAX_RETRIES", cls.max_retries)),
            backoff_initial=float(env.get("HUBWATCH_BACKOFF_INITIAL", cls.backoff_initial)),
            backoff_max=float(env.get("HUBWATCH_BACKOFF_MAX", cls.backoff_max)),
            timeout=float(env.get("HUBWATCH_TIMEOUT", cls.timeout)),
        )


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
    """Drop secret-looking query parameters so a URL can be stored or logged."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in query if k.lower() not in SECRET_QUERY_KEYS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


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


class PoliteClient:
    """An httpx client with pacing, retries and a tally of the transient errors it survived."""

    def __init__(
        self,
        politeness: Politeness | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.politeness = politeness or Politeness.from_env()
        self.error_counts: Counter[str] = Counter()
        self._next_slot = 0.0
        self._lock = threading.Lock()
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(self.politeness.timeout, connect=min(10.0, self.politeness.timeout)),
            follow_redirects=True,
            transport=transport,
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
        shown = redact_url(str(request.url))
        retrying = Retrying(
            stop=stop_after_attempt(self.politeness.max_retries + 1),
            wait=wait_retry_after_or_backoff(self.politeness),
            retry=retry_if_exception_type(TransientError),
            before_sleep=lambda state: self._note_retry(shown, state),
        )
        try:
            for attempt in retrying:
                with attempt:
                    fetched = self._attempt(request, shown)
                    return Fetched(**{**fetched.__dict__, "attempts": attempt.retry_state.attempt_number})
        except RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            raise CrawlError(f"giving up on {shown} after {self.politeness.max_retries + 1} attempts: {last}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, request: httpx.Request, shown: str) -> Fetched:
        self._pace()
        try:
            response = self._client.send(request)
            body = response.read()
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


def _links(response: httpx.Response) -> dict[str, dict[str, str]]:
    try:
        return {key: {k: str(v) for k, v in link.items()} for key, link in response.links.items()}
    except Exception:  # a malformed Link header is not worth failing a page for
        return {}


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return text + ("…" if len(body) > limit else "")
