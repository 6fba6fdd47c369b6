"""The `protected_http` fixture: scripted answers for a protected service reached with requests."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator

import pytest
import requests

from rotation_testkit.protected_http import RouteError

API = "https://api.vendor.example/v1"


# --- scripted answers ----------------------------------------------------------------------------


def test_answers_are_given_in_order_and_the_last_one_repeats(protected_http):
    route = protected_http.add("POST", f"{API}/keys", 503, 503, 201)

    statuses = [requests.post(f"{API}/keys", timeout=5).status_code for _ in range(5)]

    assert statuses == [503, 503, 201, 201, 201]
    assert route.call_count == 5
    assert [call.status for call in route.calls] == statuses


def test_a_mapping_or_a_list_is_a_json_body_with_status_200(protected_http):
    protected_http.add("GET", f"{API}/me", {"key_id": "key_1", "scopes": ["read"]})
    protected_http.add("GET", f"{API}/keys", [{"id": "key_1"}, {"id": "key_2"}])

    me = requests.get(f"{API}/me", timeout=5)
    keys = requests.get(f"{API}/keys", timeout=5)

    assert me.status_code == 200
    assert me.headers["Content-Type"] == "application/json"
    assert me.json() == {"key_id": "key_1", "scopes": ["read"]}
    assert keys.json() == [{"id": "key_1"}, {"id": "key_2"}]


def test_status_and_body_with_optional_headers(protected_http):
    protected_http.add(
        "POST",
        f"{API}/keys",
        (429, {"error": "slow down"}, {"Retry-After": "3"}),
        (201, "created", {"Location": f"{API}/keys/key_9"}),
        (204, b""),
    )

    throttled = requests.post(f"{API}/keys", timeout=5)
    created = requests.post(f"{API}/keys", timeout=5)
    empty = requests.post(f"{API}/keys", timeout=5)

    assert (throttled.status_code, throttled.json()) == (429, {"error": "slow down"})
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.headers["Content-Type"] == "application/json"
    assert (created.status_code, created.text) == (201, "created")
    assert created.headers["Location"] == f"{API}/keys/key_9"
    assert (empty.status_code, empty.content) == (204, b"")


def test_json_and_status_keywords_give_the_single_answer(protected_http):
    protected_http.add("POST", f"{API}/keys", json={"id": "key_2"}, status=201)
    protected_http.add("DELETE", f"{API}/keys/key_1", status=204)
    protected_http.add("GET", f"{API}/health")

    created = requests.post(f"{API}/keys", timeout=5)

    assert (created.status_code, created.json()) == (201, {"id": "key_2"})
    assert requests.delete(f"{API}/keys/key_1", timeout=5).status_code == 204
    assert requests.get(f"{API}/health", timeout=5).status_code == 200


def test_an_exception_class_is_raised_with_a_message_naming_the_route(protected_http):
    route = protected_http.add("GET", f"{API}/me", requests.Timeout, {"key_id": "key_1"})

    with pytest.raises(requests.Timeout, match=f"scripted Timeout for GET {re.escape(API)}/me"):
        requests.get(f"{API}/me", timeout=5)
    assert requests.get(f"{API}/me", timeout=5).json() == {"key_id": "key_1"}

    first, second = route.calls
    assert (first.status, second.status) == (None, 200)
    assert first.error is not None
    assert "Timeout" in first.error
    assert second.error is None


def test_an_exception_instance_is_raised_as_given(protected_http):
    error = requests.ConnectionError("connection reset by peer")
    protected_http.add("GET", f"{API}/me", error)

    with pytest.raises(requests.ConnectionError) as raised:
        requests.get(f"{API}/me", timeout=5)

    assert raised.value is error


def test_fail_connection_fails_then_answers(protected_http):
    route = protected_http.fail_connection(
        "POST", f"{API}/keys", times=2, then=(201, {"id": "key_2"})
    )

    outcomes = []
    for _ in range(3):
        try:
            response = requests.post(f"{API}/keys", timeout=5)
        except requests.ConnectionError:
            outcomes.append("connection error")
        else:
            outcomes.append(response.status_code)

    assert outcomes == ["connection error", "connection error", 201]
    assert route.call_count == 3


def test_fail_connection_answers_200_by_default(protected_http):
    protected_http.fail_connection("GET", f"{API}/me")

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{API}/me", timeout=5)
    assert requests.get(f"{API}/me", timeout=5).status_code == 200


def test_a_regex_route_answers_every_matching_url(protected_http):
    route = protected_http.add("DELETE", re.compile(rf"{re.escape(API)}/keys/key_\w+"), 204)

    for key in ("key_1", "key_2"):
        assert requests.delete(f"{API}/keys/{key}", timeout=5).status_code == 204

    assert [call.url for call in route.calls] == [f"{API}/keys/key_1", f"{API}/keys/key_2"]
    assert route.describe() == f"DELETE {re.escape(API)}/keys/key_\\w+"


def test_routes_match_the_method(protected_http):
    route = protected_http.add("GET", f"{API}/me", {"key_id": "key_1"}, must_be_called=False)

    with pytest.raises(requests.ConnectionError, match="protected_http"):
        requests.post(f"{API}/me", timeout=5)
    assert route.calls == []


@pytest.mark.parametrize(
    "answer",
    ["a bare string", True, (200,), (200, "a", {}, "extra"), ("200", "body"), 2.5],
    ids=repr,
)
def test_a_malformed_answer_is_refused_when_the_route_is_added(protected_http, answer):
    with pytest.raises(RouteError, match="an answer must be"):
        protected_http.add("GET", f"{API}/me", 200, answer)
    assert protected_http.routes == []


def test_answers_and_json_keywords_cannot_be_mixed(protected_http):
    with pytest.raises(RouteError, match="not both"):
        protected_http.add("GET", f"{API}/me", 200, json={"key_id": "key_1"})


# --- what was called -----------------------------------------------------------------------------


def test_calls_record_method_url_headers_and_body(protected_http):
    keys = protected_http.add("POST", f"{API}/keys", (201, {"id": "key_2"}))
    me = protected_http.add("GET", f"{API}/me", {"key_id": "key_2"})

    requests.post(
        f"{API}/keys",
        json={"description": "rotation"},
        headers={"Authorization": "Bearer key_1.s3cret", "Idempotency-Key": "token-1"},
        timeout=5,
    )
    requests.get(f"{API}/me?verbose=1", timeout=5)

    [post] = keys.calls
    assert (post.method, post.url, post.status) == ("POST", f"{API}/keys", 201)
    assert post.json() == {"description": "rotation"}
    assert post.headers["Authorization"] == "Bearer key_1.s3cret"
    assert post.headers["Idempotency-Key"] == "token-1"
    [get] = me.calls
    assert get.url == f"{API}/me?verbose=1"
    assert get.body is None
    assert get.json() is None
    assert sorted(call.method for call in protected_http.calls) == ["GET", "POST"]


def test_assert_called_returns_the_matching_calls(protected_http):
    protected_http.add("GET", f"{API}/me", 401, {"key_id": "key_1"})
    protected_http.add("POST", f"{API}/keys", 201)
    requests.get(f"{API}/me", timeout=5)
    requests.get(f"{API}/me?again=1", timeout=5)
    requests.post(f"{API}/keys", timeout=5)

    calls = protected_http.assert_called("get", f"{API}/me", times=2)

    assert [call.status for call in calls] == [401, 200]
    assert len(protected_http.assert_called("POST", f"{API}/keys")) == 1


def test_assert_called_lists_the_calls_seen_when_it_fails(protected_http):
    protected_http.add("GET", f"{API}/me", {"key_id": "key_1"})
    protected_http.fail_connection("POST", f"{API}/keys", then=201)
    requests.get(f"{API}/me", timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{API}/keys", timeout=5)

    with pytest.raises(AssertionError) as wrong_times:
        protected_http.assert_called("GET", f"{API}/me", times=2)
    with pytest.raises(AssertionError) as never:
        protected_http.assert_called("DELETE", f"{API}/keys/key_1")

    message = str(wrong_times.value)
    assert f"expected 2 call(s) to GET {API}/me, got 1" in message
    assert f"GET {API}/me -> 200" in message
    assert f"POST {API}/keys -> ConnectionError" in message
    assert f"expected at least one call to DELETE {API}/keys/key_1, got 0" in str(never.value)


def test_assert_called_with_no_calls_says_so(protected_http):
    with pytest.raises(AssertionError, match=r"Calls seen:\n  \(none\)"):
        protected_http.assert_called("GET", f"{API}/me")


# --- side by side with AWS, and nothing else -----------------------------------------------------


def test_aws_calls_still_reach_the_in_memory_backend(protected_http, secretsmanager):
    route = protected_http.add("GET", f"{API}/me", {"key_id": "key_1"})
    catch_all = protected_http.add(
        "POST", re.compile(r"https://api\.vendor\.example/.*"), 418, must_be_called=False
    )

    secretsmanager.create_secret(Name="vendor/token", SecretString="key_1.s3cret")

    assert requests.get(f"{API}/me", timeout=5).json() == {"key_id": "key_1"}
    value = secretsmanager.get_secret_value(SecretId="vendor/token")["SecretString"]
    assert value == "key_1.s3cret"
    assert route.call_count == 1
    assert catch_all.call_count == 0


def test_an_unscripted_url_is_refused_without_reaching_the_network(protected_http):
    protected_http.add("GET", f"{API}/me", 200, must_be_called=False)

    with pytest.raises(requests.ConnectionError) as raised:
        requests.get("https://api.vendor.example/v2/other?x=1", timeout=5)

    message = str(raised.value)
    assert "blocked GET https://api.vendor.example/v2/other?x=1" in message
    assert "protected_http.add('GET', 'https://api.vendor.example/v2/other', 200)" in message
    assert protected_http.calls == []


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_every_method_is_refused(secretsmanager, method):
    with pytest.raises(requests.ConnectionError, match="protected_http"):
        requests.request(method, "http://example.com/", timeout=5)


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from loopback"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_loopback_requests_pass_through_to_a_local_server(protected_http, local_server):
    protected_http.add("GET", f"{API}/me", 200)
    requests.get(f"{API}/me", timeout=5)

    response = requests.get(f"{local_server}/status", timeout=5)

    assert (response.status_code, response.text) == (200, "hello from loopback")


def test_a_host_that_only_starts_like_localhost_is_refused(secretsmanager):
    with pytest.raises(requests.ConnectionError, match="protected_http"):
        requests.get("http://localhost.example.com/", timeout=5)


def test_routes_do_not_outlive_their_test(pytester):
    pytester.makepyfile(
        """
        import pytest
        import requests


        def test_first(protected_http):
            protected_http.add("GET", "https://api.vendor.example/v1/me", 200)
            assert requests.get("https://api.vendor.example/v1/me", timeout=5).status_code == 200


        def test_second(protected_http):
            assert protected_http.routes == []
            with pytest.raises(requests.ConnectionError, match="protected_http"):
                requests.get("https://api.vendor.example/v1/me", timeout=5)
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")

    result.assert_outcomes(passed=2)


def test_the_kit_and_the_fixture_share_the_routes(protected_http, rotation_kit):
    assert rotation_kit.protected_http is protected_http
    route = rotation_kit.protected_http.add("GET", f"{API}/me", 200)
    requests.get(f"{API}/me", timeout=5)
    assert protected_http.calls == route.calls


# --- the teardown check --------------------------------------------------------------------------

UNCALLED = """
import requests

API = "https://api.vendor.example/v1"


def test_scripts_two_routes_and_calls_one(protected_http):
    protected_http.add("GET", f"{API}/me", {"key_id": "key_1"})
    protected_http.add("DELETE", f"{API}/keys/key_0", 204)
    protected_http.add("POST", f"{API}/keys", 201, must_be_called=False)
    requests.get(f"{API}/me", timeout=5)
"""


def test_a_route_never_called_fails_the_test_at_teardown(pytester):
    pytester.makepyfile(UNCALLED)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_scripts_two_routes_and_calls_one*",
            "*protected_http routes were never called*",
            "*- DELETE https://api.vendor.example/v1/keys/key_0",
            "*must_be_called=False*assert_http_routes_used=False*",
        ]
    )
    # The route that was called, and the optional one, are not reported.
    assert "- GET https://api.vendor.example/v1/me" not in result.stdout.str()
    assert "- POST https://api.vendor.example/v1/keys" not in result.stdout.str()


def test_the_route_check_can_be_turned_off_with_the_marker(pytester):
    pytester.makepyfile(
        UNCALLED.replace(
            "def test_scripts",
            "import pytest\n\n\n"
            "@pytest.mark.rotation_testkit(assert_http_routes_used=False)\ndef test_scripts",
        )
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_a_failing_test_is_not_buried_under_the_route_check(pytester):
    pytester.makepyfile(
        """
        def test_fails(protected_http):
            protected_http.add("GET", "https://api.vendor.example/v1/me", 200)
            assert False, "the test's own failure"
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    assert "never called" not in result.stdout.str()


# --- edge cases ----------------------------------------------------------------------------------


def test_assert_called_accepts_the_url_as_the_code_wrote_it(protected_http):
    # requests sends "https://api.vendor.example" as "https://api.vendor.example/".
    protected_http.add("GET", "https://api.vendor.example", 200)
    requests.get("https://api.vendor.example", timeout=5)

    assert len(protected_http.assert_called("GET", "https://api.vendor.example", times=1)) == 1


def test_a_second_route_for_the_same_request_is_not_silently_ignored(protected_http):
    protected_http.add("GET", f"{API}/me", 200, must_be_called=False)
    try:
        newer = protected_http.add("GET", f"{API}/me", 500)
    except RouteError:
        return  # refused when added: the test's author learns at once
    assert requests.get(f"{API}/me", timeout=5).status_code == 500
    assert newer.call_count == 1


def test_a_base_exception_answer_is_raised_or_refused_up_front(protected_http):
    try:
        protected_http.add("GET", f"{API}/me", KeyboardInterrupt)
    except RouteError:
        return
    with pytest.raises(KeyboardInterrupt):
        requests.get(f"{API}/me", timeout=5)
