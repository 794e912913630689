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


# -- bounded time per request, whatever the server says ------------------------------------------
def test_the_request_budget_includes_retry_after_waits():
    transport, seen = scripted(httpx.Response(429, headers={"Retry-After": "1"}))
    polite = Politeness(requests_per_second=0, max_retries=6, backoff_initial=0.001, request_budget=2.5)
    with PoliteClient(polite, transport=transport) as client, pytest.raises(CrawlError) as error:
        started = time.monotonic()
        client.get_json("https://hub.example/x")
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 3.0, elapsed  # attempts at 0, 1 and 2 s; a wait to 3 s would pass the budget
    assert len(seen) == 3
    message = str(error.value)
    assert "\n" not in message and "HUBWATCH_REQUEST_BUDGET" in message and "after 3 attempts" in message


def test_a_retry_after_longer_than_the_budget_gives_up_at_once():
    transport, seen = scripted(httpx.Response(429, headers={"Retry-After": "600"}))
    polite = Politeness(requests_per_second=0, max_retries=6, request_budget=5)
    with PoliteClient(polite, transport=transport) as client, pytest.raises(CrawlError, match="within the 5 s"):
        started = time.monotonic()
        client.get_json("https://hub.example/x")
    assert time.monotonic() - started < 1 and len(seen) == 1


def test_a_server_dripping_its_body_cannot_outlast_the_budget():
    def drip():
        yield b"["
        for _ in range(30):
            time.sleep(0.2)
            yield b" "
        yield b"]"

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=drip()))
    polite = Politeness(requests_per_second=0, max_retries=3, backoff_initial=0.001, request_budget=1)
    with PoliteClient(polite, transport=transport) as client, pytest.raises(CrawlError, match="time ran out"):
        started = time.monotonic()
        client.get_json("https://hub.example/x")
    assert time.monotonic() - started < 2


def test_numeric_settings_from_the_environment_fail_in_one_line(monkeypatch):
    monkeypatch.setenv("HUBWATCH_RATE", "abc")
    with pytest.raises(CrawlError, match=r"^HUBWATCH_RATE='abc' is not a number$"):
        Politeness.from_env()
    monkeypatch.setenv("HUBWATCH_RATE", "2")
    monkeypatch.setenv("HUBWATCH_MAX_RETRIES", "-1")
    with pytest.raises(CrawlError, match="HUBWATCH_MAX_RETRIES='-1' must be"):
        Politeness.from_env()
    monkeypatch.setenv("HUBWATCH_MAX_RETRIES", "3")
    monkeypatch.setenv("HUBWATCH_REQUEST_BUDGET", "nan")
    with pytest.raises(CrawlError, match="HUBWATCH_REQUEST_BUDGET"):
        Politeness.from_env()


# -- secrets ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://user:s3cret@h.example/api/v1/models?limit=1", "https://h.example/api/v1/models?limit=1"),
        ("http://s3cret@127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("https://h/api?limit=1&token=s3cret&cursor=2", "https://h/api?limit=1&cursor=2"),
        ("https://h/d?X-Amz-Credential=s3cret&X-Amz-Signature=s3cret&a=1", "https://h/d?a=1"),
        ("https://h/d?sig=s3cret&hf_token=s3cret&apiKey=s3cret&password=s3cret&b=2", "https://h/d?b=2"),
        # untouched: nothing to remove (stored URLs keep their exact bytes), author is not auth
        ("https://h/api/models?author=me&cursor=YQ%3D%3D&expand=a&expand=b", None),
        ("https://h/api/models?filter=lora", None),
        ("file:///tmp/crawl/models.json", None),
    ],
)
def test_redact_url_strips_userinfo_and_token_like_parameters(url, redacted):
    assert redact_url(url) == (redacted or url)
    assert "s3cret" not in redact_url(url)


def test_the_authorization_header_goes_to_its_own_origin_only():
    from ingest.http import Credentials

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "hub.example" and request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "https://elsewhere.example/landed"})
        return httpx.Response(200, json={"ok": True})

    seen = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or handler(request))
    credentials = Credentials.for_base("https://hub.example/api", "s3cret")
    with PoliteClient(FAST, transport=transport, credentials=credentials) as client:
        client.get_json("https://hub.example/api/models")
        client.get_json("https://elsewhere.example/api/models?cursor=2")  # a paging link to another host
        client.get_json("https://hub.example/moved")  # a redirect to another host
        client.get_json("http://hub.example/api/models")  # another scheme is another origin
    sent = [(r.url.host, r.url.scheme, r.headers.get("Authorization")) for r in seen]
    assert sent == [
        ("hub.example", "https", "Bearer s3cret"),
        ("elsewhere.example", "https", None),
        ("hub.example", "https", "Bearer s3cret"),
        ("elsewhere.example", "https", None),
        ("hub.example", "http", None),
    ]
    assert "s3cret" not in repr(credentials)


def test_userinfo_in_a_base_url_becomes_a_basic_header_for_that_origin():
    from ingest.http import Credentials

    credentials = Credentials.for_base("http://user:pa%20ss@127.0.0.1:9/api/v1", None)
    assert credentials.origin == ("http", "127.0.0.1", 9)
    assert credentials.headers == {"Authorization": "Basic dXNlcjpwYSBzcw=="}  # user:pa ss
    assert Credentials.for_base("https://civitai.com/api/v1", None) is None
