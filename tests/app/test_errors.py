"""The error shapes: JSON for the API and JSON clients, friendly HTML pages, no leaks."""

from __future__ import annotations

import httpx

from tests.support.served_app import LEAKY_MESSAGE, UUID_HEX, assert_api_error


async def test_unknown_api_path_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no/such/thing", headers={"accept": "text/html"})

    error = assert_api_error(response, 404, "not_found")
    assert error["message"] == "there is nothing at this address"
    assert UUID_HEX.match(str(error["request_id"]))


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/health")

    assert_api_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_api_error_keeps_its_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test/conflict")

    error = assert_api_error(response, 409, "already_exists")
    assert error["message"] == "that thing is there already"


async def test_unknown_page_is_a_friendly_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/no/such/page", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert ">page not found</h1>" in page
    assert 'href="/"' in page
    assert "/no/such/page" in page  # says what was asked for
    assert 'action="/search"' in page  # and offers a way to look for it
    assert response.headers["x-request-id"] in page
    assert "Traceback" not in page
    assert "Not Found" not in page  # lowercase copy, not the HTTP reason phrase


async def test_json_clients_get_json_404_off_the_api_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"accept": "application/json"})

    assert_api_error(response, 404, "not_found")


async def test_validation_error_lists_the_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test/items/not-a-number", params={"limit": 0})

    error = assert_api_error(response, 422, "invalid_input")
    details = error["details"]
    assert isinstance(details, list)
    by_field = {detail["field"]: detail["reason"] for detail in details}
    assert set(by_field) == {"path.item_id", "query.limit"}
    assert all(isinstance(reason, str) and reason for reason in by_field.values())

    ok = await client.get("/api/test/items/7", params={"limit": 3})
    assert ok.status_code == 200
    assert ok.json() == {"item_id": 7, "limit": 3}


async def test_validation_error_on_a_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/test/items", json={"name": "", "count": -1})

    error = assert_api_error(response, 422, "invalid_input")
    fields = {detail["field"] for detail in error["details"]}  # type: ignore[attr-defined]
    assert fields == {"body.name", "body.count"}

    broken = await client.post(
        "/api/test/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_api_error(broken, 422, "invalid_input")


async def test_unhandled_exception_is_a_500_that_leaks_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/test/boom", headers={"x-request-id": "trace-0001-boom"})

    error = assert_api_error(response, 500, "internal_error")
    assert error["request_id"] == "trace-0001-boom"
    assert "details" not in error
    assert LEAKY_MESSAGE not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


async def test_unhandled_exception_on_a_page_is_an_html_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/boom-page", headers={"accept": "text/html"})

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "something broke" in response.text
    assert 'href="/"' in response.text
    assert LEAKY_MESSAGE not in response.text
    assert response.headers["x-request-id"] in response.text
