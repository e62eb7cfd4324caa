"""GraphQL over HTTP as the spec says, and the limits every query is held to."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from graphql import parse

from portal_gateway.config import Settings
from portal_gateway.db import Database
from tests.api import Api, app_client
from tests.factories import World, unique_email

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_post_json_query_is_answered_as_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"viewer": None}}


async def test_graphql_response_media_type_when_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_parse_error_is_400_without_data_for_graphql_response(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { id "}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_validation_error_reaches_the_client_with_its_message(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { emial } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "emial" in error["message"]
    assert "Did you mean" in error["message"]  # suggestions are on in test mode
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_validation_error_is_200_for_legacy_json_clients(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ viewer { id } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_mutation_over_get_is_405(client: httpx.AsyncClient) -> None:
    query = 'mutation { signIn(input: {token: "x"}) { __typename } }'
    response = await client.get("/graphql", params={"query": query})
    assert response.status_code == 405


async def test_form_posts_cannot_run_operations(client: httpx.AsyncClient) -> None:
    """Browsers' simple cross-site requests carry cookies; they must not run anything."""
    response = await client.post(
        "/graphql",
        content='{"query": "mutation { signOut { ok } }"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 400


async def test_batching_is_off(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json=[{"query": "{ viewer { id } }"}, {"query": "{ viewer { id } }"}]
    )
    assert response.status_code == 400


async def test_graphiql_served_to_browsers_in_test_mode(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_live_mode_hides_graphiql_introspection_and_suggestions(
    db: Database, live_settings: Settings
) -> None:
    async with app_client(live_settings, db) as live:
        page = await live.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        introspection = await live.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}
        )
        assert "data" not in introspection.json() or not introspection.json().get("data")
        assert introspection.json()["errors"]
        typo = await live.post("/graphql", json={"query": "{ viewer { emial } }"})
        assert "Did you mean" not in typo.json()["errors"][0]["message"]


def _nested() -> str:
    """13 levels: viewer > subscriptions > edges > node > account > business > customers ..."""
    inner = "id"
    for field in ["customers", "edges", "node", "business"] * 2 + ["account", "node", "edges"]:
        inner = f"{field} {{ {inner} }}"
    return "{ viewer { subscriptions { " + inner + " } } }"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(_nested(), id="depth"),
        pytest.param(
            "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(16)) + " }", id="aliases"
        ),
        pytest.param("{ viewer { " + "id " * 2001 + "} }", id="tokens"),
        pytest.param(
            "{ viewer { " + " ".join(f"f{i}: id @include(if: true)" for i in range(11)) + " } }",
            id="directives",
        ),
    ],
)
async def test_query_limits(client: httpx.AsyncClient, query: str) -> None:
    response = await client.post("/graphql", json={"query": query})
    body = response.json()
    assert "errors" in body, body
    assert "QUERY_TOO_COMPLEX" in {error["extensions"]["code"] for error in body["errors"]}
    assert body.get("data") is None


async def test_queries_just_under_the_limits_run(client: httpx.AsyncClient) -> None:
    aliases = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(15)) + " }"
    response = await client.post("/graphql", json={"query": aliases})
    assert "errors" not in response.json()


async def test_unexpected_errors_are_masked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from portal_gateway.resolvers import viewer as viewer_resolvers

    async def broken(ctx: object) -> None:
        raise RuntimeError("secret detail: sk_live_leak")

    monkeypatch.setattr(viewer_resolvers, "viewer", broken)
    response = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in response.text
    assert "secret detail" in caplog.text  # the detail is in the log only


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_readiness_fails_without_database(settings: Settings) -> None:
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with app_client(settings, broken) as http:
        response = await http.get("/readyz")
    await broken.dispose()
    assert response.status_code == 503


async def test_graphiql_opens_on_who_is_signed_in_under_a_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    signed_out = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "Nobody is signed in here." in signed_out.text
    assert "Welcome to GraphiQL" not in signed_out.text
    policy = signed_out.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in signed_out.text
    assert "script-src 'nonce-" in policy and "'unsafe-inline' https://unpkg.com" in policy
    assert "'unsafe-eval'" not in policy and "frame-ancestors 'none'" in policy
    again = await client.get("/graphql", headers={"Accept": "text/html"})
    assert again.headers["content-security-policy"] != policy  # a new nonce each time


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"42", "a number"),
        (b'"x"', "a string"),
        (b'{"query": "{ viewer { id } }", "variables": "\xff"}', "not UTF-8"),
        (b"[" * 1000 + b"]" * 1000, "nested 1,000 deep"),
        (b'{"query": "{ __typename }", "variables": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1001,
         "variables nested 1,000 deep"),
    ],
)  # fmt: skip
async def test_a_malformed_body_is_a_400_with_an_error_body(
    client: httpx.AsyncClient, body: bytes, why: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, why
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["extensions"]["code"] == "BAD_REQUEST", why


async def test_several_operations_need_an_operation_name(client: httpx.AsyncClient) -> None:
    document = "query A { viewer { id } } query B { __typename }"
    unnamed = await client.post(
        "/graphql", json={"query": document}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert unnamed.status_code == 400
    assert "data" not in unnamed.json()
    assert unnamed.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    named = await client.post("/graphql", json={"query": document, "operationName": "B"})
    assert named.json() == {"data": {"__typename": "Query"}}


async def test_a_request_level_error_has_no_data_in_plain_json_either(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { nope } }"})
    assert response.status_code == 200  # application/json: errors travel with 200
    assert "data" not in response.json()


async def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(
    settings: Settings, db: Database
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096})
    async with app_client(small, db) as client:
        declared = await client.post("/graphql", content=b"x" * 5000,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        assert declared.status_code == 413
        assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        sent = 0

        async def stream() -> AsyncIterator[bytes]:  # no Content-Length: chunked
            nonlocal sent
            for _ in range(1000):
                sent += 1
                yield b"x" * 1024

        streamed = await client.post("/graphql", content=stream(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        assert streamed.status_code == 413
        assert sent < 10  # refused after the limit, not after the thousandth chunk
        fine = await client.post("/graphql", json={"query": "{ __typename }"})
        assert fine.json() == {"data": {"__typename": "Query"}}


async def test_graphiqls_query_cannot_be_extended_by_a_business_name(
    world: World, api: Api
) -> None:
    business = await world.business("Acme\nmutation Evil { signOut { ok } }\nquery Other #")
    account = await world.account(business, unique_email("graphiql"))
    await api.session_for(business, account)  # signIn also sets the browser's cookie
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    literal = re.search(r"const EXAMPLE_QUERY = (\".*?\");\n", page.text)
    assert literal is not None
    document = parse(json.loads(literal.group(1)))
    assert [d.operation.value for d in document.definitions] == ["query"]  # type: ignore[attr-defined]


async def test_a_document_asked_again_is_not_validated_again(client: httpx.AsyncClient) -> None:
    """Validation is cached by document and rules, so the rules must be the same objects on
    every request; the limits still hold for a document answered from the cache."""
    from strawberry.extensions.validation_cache import DEFAULT_MAXSIZE, _get_validate_cache

    cache = _get_validate_cache(DEFAULT_MAXSIZE)
    query = "{ viewer { id email } currentBusiness { id name } }"
    await client.post("/graphql", json={"query": query})
    hits = cache.cache_info().hits
    for _ in range(3):
        response = await client.post("/graphql", json={"query": query})
        assert response.json() == {"data": {"viewer": None, "currentBusiness": None}}
    assert cache.cache_info().hits == hits + 3
    for _ in range(2):
        too_deep = (await client.post("/graphql", json={"query": _nested()})).json()
        assert "QUERY_TOO_COMPLEX" in {error["extensions"]["code"] for error in too_deep["errors"]}
