"""The polite client: identification, retries, Retry-After, pacing, loud failure, no secrets."""

import time

import httpx
import pytest

from ingest.http import USER_AGENT, CrawlError, PoliteClient, Politeness, parse_retry_after, redact_url

FAST = Politeness(requests_per_second=0, max_retries=3, backoff_initial=0.001, backoff_max=0.002, timeout=2)


def scripted(*responses):
    """A transport that answers with the given responses in order and records the requests."""
    seen = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


def test_identifies_itself_and_parses_json():
    transport, seen = scripted(httpx.Response(200, json={"items": [], "metadata": {}}))
    with PoliteClient(FAST, transport=transport) as client:
        fetched = client.get_json("https://hub.example/api/v1/models", {"limit": 1})
    assert fetched.payload == {"items": [], "metadata": {}}
    assert fetched.attempts == 1
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert "hubwatch" in USER_AGENT and "https://" in USER_AGENT


def test_retries_transient_failures_and_counts_them():
    transport, seen = scripted(
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.Response(200, content=b'{"items": [', headers={"Content-Type": "application/json"}),
        httpx.Response(200, json={"ok": True}),
    )
    with PoliteClient(FAST, transport=transport) as client:
        fetched = client.get_json("https://hub.example/x")
        assert fetched.payload == {"ok": True} and fetched.attempts == 4
        assert client.take_errors() == {"503": 1, "connection": 1, "invalid_json": 1}
        assert client.take_errors() == {}
    assert len(seen) == 4


def test_honours_retry_after():
    transport, _ = scripted(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json=[]))
    with PoliteClient(FAST, transport=transport) as client:
        started = time.monotonic()
        client.get_json("https://hub.example/x")
        assert time.monotonic() - started >= 1.0


def test_gives_up_loudly_after_bounded_retries():
    transport, seen = scripted(httpx.Response(500))
    with PoliteClient(FAST, transport=transport) as client, pytest.raises(CrawlError) as error:
        client.get_json("https://hub.example/x")
    assert len(seen) == FAST.max_retries + 1
    assert "giving up" in str(error.value) and "\n" not in str(error.value)


def test_client_errors_are_not_retried():
    transport, seen = scripted(httpx.Response(404, json={"error": "No model with id 1"}))
    with PoliteClient(FAST, transport=transport) as client, pytest.raises(CrawlError, match="HTTP 404"):
        client.get_json("https://hub.example/models/1")
    assert len(seen) == 1


def test_paces_requests():
    transport, _ = scripted(httpx.Response(200, json=[]))
    with PoliteClient(Politeness(requests_per_second=20, max_retries=0), transport=transport) as client:
        started = time.monotonic()
        for _ in range(5):
            client.get_json("https://hub.example/x")
        assert time.monotonic() - started >= 4 / 20 - 0.01


def test_secrets_never_in_urls():
    assert redact_url("https://h/api?limit=1&token=abc&cursor=2") == "https://h/api?limit=1&cursor=2"
    transport, _ = scripted(httpx.Response(500))
    with PoliteClient(FAST, transport=transport) as client, pytest.raises(CrawlError) as error:
        client.get_json("https://h/api", {"token": "s3cret"})
    assert "s3cret" not in str(error.value)


def test_retry_after_dates_and_garbage():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert parse_retry_after("soon") is None
