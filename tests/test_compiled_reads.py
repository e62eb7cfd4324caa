"""The compiled read path answers as Strawberry does, in a fixed number of statements.

Every query here is sent twice over HTTP, with the compiled path on and off, and the two
bodies must be the same bytes once parsed and re-serialized in their own order.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from portal_gateway.compiled.executor import CompiledReadsExecutor
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.models import CustomerAccount
from portal_gateway.schema import PortalSchema
from tests.api import Api, app_client, token_of
from tests.compiled import customer_of, paths
from tests.factories import World, gid, unique_email
from tests.mail import Mailbox

DASHBOARD = (Path(__file__).resolve().parents[1] / "bench" / "dashboard.graphql").read_text()


@pytest.fixture(autouse=True)
def _compiled_reads_on(settings: Settings) -> None:
    """These tests are about the compiled path: on, whatever PORTAL_COMPILED_READS says for
    the rest of the suite."""
    settings.compiled_reads = True


async def both_paths(
    api: Api,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The body, the same from both paths, and the statements the compiled path sent."""
    compiled, reference, sent = await paths(api, settings, query, variables, token=token)
    assert compiled.status_code == reference.status_code
    assert json.dumps(compiled.json()) == json.dumps(reference.json())
    body: dict[str, Any] = compiled.json()
    return body, sent


async def test_the_dashboard_is_the_same_from_both_paths_in_eight_statements(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    body, sent = await both_paths(api, settings, DASHBOARD, token=token)
    viewer = body["data"]["viewer"]
    assert viewer["subscriptions"]["totalCount"] == 4
    assert viewer["invoices"]["totalCount"] == 6
    assert viewer["accounts"][0]["creditBalances"] == [{"amount": "7.00", "currency": "USD"}]
    assert len(sent) == 8


async def test_a_unified_dashboard_of_many_businesses_is_the_same_from_both_paths(
    world: World, api: Api, settings: Settings, db: Database, mailbox: Mailbox
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    email = unique_email("unified")
    for n in range(3):
        business = await world.business(allow_updates=n != 1)
        await customer_of(world, business, email)
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": email},
    )
    signed_in = await api.sign_in(token_of(await mailbox.link_for(email)))
    body, sent = await both_paths(api, settings, DASHBOARD, token=signed_in["accessToken"])
    assert len(body["data"]["viewer"]["businesses"]) == 3
    assert len(sent) == 8


# ---------------------------------------------------------------------------------------
# The scope sweep: every id of every node type, asked by every kind of principal.

NODE_FIELDS = """
  __typename id
  ... on Business { name }
  ... on CustomerAccount { email business { id } }
  ... on Product { name business { id } collection { id } }
  ... on ProductCollection { name products { id } }
  ... on Subscription { status business { id } account { id } product { id }
                        paymentMethod { id } planChangeOptions { product { id } } }
  ... on Purchase { business { id } product { id } invoice { id } licenseKeys { id } }
  ... on Invoice { number business { id } subscription { id } payment { id }
                   lines { description } }
  ... on Payment { business { id } paymentMethod { id } invoice { id } }
  ... on PaymentMethod { last4 business { id } }
  ... on LicenseKey { key business { id } product { id } purchase { id } }
"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) {" + NODE_FIELDS + "} }"
NODE = "query($id: ID!) { node(id: $id) {" + NODE_FIELDS + "} }"
BUSINESS_LEVEL = {"Business", "Product", "ProductCollection"}


async def _rows_of(db: Database, business_ids: set[str]) -> list[tuple[str, str, str, str]]:
    """(type, id, business id, account id or "") of every node row of these businesses."""
    from sqlalchemy import select

    from portal_gateway.loaders import NODE_MODELS

    found: list[tuple[str, str, str, str]] = []
    async with db.read_sessions() as session:
        for type_name, model in NODE_MODELS.items():
            entity: Any = model
            owner = entity.id if type_name == "Business" else entity.business_id
            for row in (await session.scalars(select(model).where(owner.in_(business_ids)))).all():
                business_id = row.id if type_name == "Business" else row.business_id
                if type_name == "CustomerAccount":
                    account_id = row.id
                elif type_name in BUSINESS_LEVEL:
                    account_id = ""
                else:
                    account_id = row.account_id
                found.append((type_name, row.id, business_id, account_id))
    return found


async def test_no_principal_sees_through_node_or_nodes_what_is_not_theirs(
    world: World, api: Api, settings: Settings, db: Database, mailbox: Mailbox
) -> None:
    """Every row of two businesses, asked by id (with every relation of every type) by both
    merchants, a BUSINESS session at each and a UNIFIED session: exactly what the scope
    rules give, from both paths."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    first, second = await world.business(), await world.business()
    shared, other = unique_email("shared"), unique_email("other")
    at_first = await customer_of(world, first, shared)
    at_second = await customer_of(world, second, shared)
    stranger = await customer_of(world, first, other)
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": shared},
    )
    unified = (await api.sign_in(token_of(await mailbox.link_for(shared))))["accessToken"]
    principals: dict[str, tuple[str, set[str], set[str]]] = {
        # token, the businesses whose catalogue it sees, the accounts whose rows it sees
        "merchant of the first": (first.api_key, {first.id}, set()),
        "merchant of the second": (second.api_key, {second.id}, set()),
        "session at the first": (await api.session_for(first, at_first), {first.id}, {at_first.id}),
        "the stranger's session": (
            await api.session_for(first, stranger),
            {first.id},
            {stranger.id},
        ),
        "unified session": (unified, {first.id, second.id}, {at_first.id, at_second.id}),
    }
    rows = await _rows_of(db, {first.id, second.id})
    assert len({row[0] for row in rows}) == 10
    ids = [gid(type_name, row_id) for type_name, row_id, _, _ in rows]
    for label, (token, businesses, accounts) in principals.items():
        merchant = not accounts
        expected = {
            gid(type_name, row_id)
            for type_name, row_id, business_id, account_id in rows
            if (merchant and business_id in businesses)
            or (type_name in BUSINESS_LEVEL and business_id in businesses)
            or account_id in accounts
        }
        seen: set[str] = set()
        for start in range(0, len(ids), 100):
            body, sent = await both_paths(
                api, settings, NODES, {"ids": ids[start : start + 100]}, token=token
            )
            assert "errors" not in body, (label, body)
            assert sent, "the compiled path answered"
            seen |= {node["id"] for node in body["data"]["nodes"] if node is not None}
        assert seen == expected, label
        for global_id in ids[::7]:
            body, _ = await both_paths(api, settings, NODE, {"id": global_id}, token=token)
            assert (body["data"]["node"] is not None) == (global_id in expected), label


# ---------------------------------------------------------------------------------------
# A generated corpus: hypothesis-graphql's queries over the read roots, from both paths.

CORPUS_CASES = int(os.environ.get("PORTAL_CORPUS_CASES", "150"))


async def test_generated_queries_get_the_same_answer_from_both_paths(
    world: World, api: Api, settings: Settings, db: Database, mailbox: Mailbox
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st
    from hypothesis_graphql import strategies as graphql_strategies

    from portal_gateway.schema import schema_sdl

    business, other = await world.business(), await world.business()
    email = unique_email("corpus")
    account = await customer_of(world, business, email)
    await customer_of(world, other, email)
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": email},
    )
    unified = (await api.sign_in(token_of(await mailbox.link_for(email))))["accessToken"]
    credentials = [business.api_key, await api.session_for(business, account), unified]
    documents = graphql_strategies.queries(
        schema_sdl(), fields=["viewer", "node", "nodes", "currentBusiness"], allow_x00=False
    )
    loop = asyncio.get_running_loop()
    outcomes: list[bool] = []
    planned = 0
    run_plan = CompiledReadsExecutor._run

    def counting(self: CompiledReadsExecutor, *args: Any) -> Any:
        nonlocal planned
        planned += 1
        return run_plan(self, *args)

    def ask(document: str, credential: str) -> None:
        nonlocal planned
        planned = 0
        request = both_paths(api, settings, document, token=credential)
        asyncio.run_coroutine_threadsafe(request, loop).result()
        outcomes.append(planned > 0)

    @hypothesis_settings(
        max_examples=CORPUS_CASES, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(document=documents, credential=st.sampled_from(credentials))
    def one(document: str, credential: str) -> None:
        ask(document, credential)

    CompiledReadsExecutor._run = counting  # type: ignore[method-assign]
    try:
        await asyncio.to_thread(one)
    finally:
        CompiledReadsExecutor._run = run_plan  # type: ignore[method-assign]
    # Most of the corpus reaches the compiled path (the rest asks what only Strawberry
    # answers: a preview, a Customer node, an argument it refuses).
    assert sum(outcomes) > len(outcomes) / 2, (sum(outcomes), len(outcomes))


async def test_both_paths_agree_with_prepared_statements_off_as_behind_pgbouncer(
    world: World, settings: Settings, db: Database
) -> None:
    """PgBouncer in transaction mode needs asyncpg's statement cache off (DESIGN: Scaling
    out): the same answers, from both paths, with PORTAL_DB_STATEMENT_CACHE_SIZE=0."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    uncached = Database(db.url, pool_size=2, statement_cache_size=0)
    try:
        async with app_client(settings, uncached) as client:
            api = Api(client, settings)
            business = await world.business()
            account = await customer_of(world, business, unique_email())
            token = await api.session_for(business, account)
            for _ in range(3):  # again and again on the same connections
                body, sent = await both_paths(api, settings, DASHBOARD, token=token)
                assert body["data"]["viewer"]["invoices"]["totalCount"] == 6
                assert len(sent) == 8
    finally:
        await uncached.dispose()


DIRECTED = """
query Page($full: Boolean!, $first: Int) {
  viewer {
    email
    invoices(first: $first) { totalCount edges @include(if: $full) { node { number } } }
    name @skip(if: $full)
    ...Cards @include(if: $full)
  }
}
query Other($brief: Boolean!) { viewer { id @skip(if: $brief) businesses { name } } }
fragment Cards on Customer { paymentMethods { last4 } }
"""


async def test_directives_with_variables_pick_their_own_plan(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """One document, the values of the variables its directives read: each its own plan,
    and each answer as Strawberry's; a second operation of the document has its own."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    answers = []
    for full in (True, False, True):
        payload = {
            "query": DIRECTED,
            "operationName": "Page",
            "variables": {"full": full, "first": 2},
        }
        compiled = await api.client.post(
            "/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
        settings.compiled_reads = False
        try:
            reference = await api.client.post(
                "/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}
            )
        finally:
            settings.compiled_reads = True
        assert json.dumps(compiled.json()) == json.dumps(reference.json())
        answers.append(compiled.json()["data"]["viewer"])
    assert len(answers[0]["invoices"]["edges"]) == 2
    assert "paymentMethods" in answers[0] and "name" not in answers[0]
    assert "edges" not in answers[1]["invoices"] and "paymentMethods" not in answers[1]
    assert answers[1]["name"] == "Pat Customer"
    assert answers[2] == answers[0]
    for brief in (True, False):
        payload = {"query": DIRECTED, "operationName": "Other", "variables": {"brief": brief}}
        response = await api.client.post(
            "/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
        viewer = response.json()["data"]["viewer"]
        assert ("id" in viewer) is not brief
        assert viewer["businesses"] == [{"name": business.name}]


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The query text of every request Strawberry's schema executes from now on (a direct
    answer is not one of them)."""
    executed: list[str] = []
    original = PortalSchema.execute

    async def counted(self: PortalSchema, query: str | None, *args: Any, **kwargs: Any) -> Any:
        executed.append(query or "")
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(PortalSchema, "execute", counted)
    return executed


PAGE = """query Page($first: Int!, $after: String) {
  viewer {
    name
    invoices(first: $first, after: $after) {
      totalCount
      edges { cursor node { id number total { amount currency } memo: number } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def test_a_query_that_ran_clean_is_answered_directly_and_the_same(
    world: World, api: Api, settings: Settings, db: Database, executions: list[str]
) -> None:
    """The second time a document comes, it skips Strawberry's view; the client sees the
    same bytes and headers. Whatever is not clean (a bad cursor, text no database stores,
    a variable of the wrong type) goes the whole way, with the reference's error."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    executions.clear()  # the merchant's and the sign-in's
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/graphql-response+json"}
    payload = {"query": PAGE, "variables": {"first": 2}}
    first = await api.client.post("/graphql", json=payload, headers=headers)
    second = await api.client.post("/graphql", json=payload, headers=headers)
    assert len(executions) == 1  # the second one answered directly
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert first.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    invoices = second.json()["data"]["viewer"]["invoices"]
    assert invoices["totalCount"] == 6 and len(invoices["edges"]) == 2

    # The next page, by the cursor the first gave: directly, and as Strawberry answers it.
    after = invoices["pageInfo"]["endCursor"]
    executions.clear()
    body = await api.gql(PAGE, {"first": 2, "after": after}, token=token)
    assert executions == [PAGE]  # only the reference's, which api.gql asks for too
    assert body["data"]["viewer"]["invoices"]["edges"][0]["cursor"] != after

    refused = {
        "a cursor no page gave": {"first": 2, "after": "not-a-cursor"},
        "a page too large": {"first": 1000},
        "text no database stores": {"first": 2, "after": "a\x00b"},
        "a variable of the wrong type": {"first": "two"},
    }
    for reason, variables in refused.items():
        executions.clear()
        body = await api.gql(PAGE, variables, token=token, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"], reason
        assert len(executions) == 2, reason  # the whole path, then the reference

    # With the operation's name, and as another kind of principal: each its own.
    executions.clear()
    by_name = {"query": PAGE, "operationName": "Page", "variables": {"first": 2}}
    named = await api.client.post("/graphql", json=by_name, headers=headers)
    assert named.content == first.content and len(executions) == 1
    merchant = {"Authorization": f"Bearer {business.api_key}"}
    for _ in range(2):
        response = await api.client.post("/graphql", json=payload, headers=merchant)
        assert response.json() == {"data": {"viewer": None}}
    assert len(executions) == 2


async def test_what_the_view_refuses_is_refused_however_often_the_query_ran(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """A request the HTTP view refuses (its body or content type) gets the same refusal
    before and after its query has been answered directly (found by review)."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    auth = {"Authorization": f"Bearer {token}"}
    query = "query Me { viewer { name email } }"
    odd = {
        "extensions not an object": (json.dumps({"query": query, "extensions": "no"}), None),
        "extensions a list": (json.dumps({"query": query, "extensions": [1]}), None),
        "a media type in capitals": (json.dumps({"query": query}), "Application/JSON"),
        "a byte order mark": ("\ufeff" + json.dumps({"query": query}), None),
    }

    async def send(body: str, media: str | None) -> tuple[int, str]:
        headers = {**auth, "Content-Type": media or "application/json"}
        response = await api.client.post("/graphql", content=body.encode(), headers=headers)
        return response.status_code, response.text

    before = {reason: await send(*request) for reason, request in odd.items()}
    assert all(status == 400 for status, _ in before.values()), before
    for _ in range(2):  # the first answers it through the view, the second directly
        clean = await api.client.post("/graphql", json={"query": query}, headers=auth)
        assert clean.json()["data"]["viewer"]["name"] == "Pat Customer"
    for reason, request in odd.items():
        assert await send(*request) == before[reason], reason


async def test_a_relation_under_an_absent_one_needs_no_check(
    world: World, api: Api, settings: Settings, db: Database, executions: list[str]
) -> None:
    """An invoice without a subscription has no subscription's product to miss: its page is
    still written by the statement and answered directly the next time (review)."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    query = """query Products { viewer { invoices(first: 10) { edges { node {
        number subscription { product { name price { amount currency } } } } } } } }"""
    body = await api.gql(query, token=token)
    edges = body["data"]["viewer"]["invoices"]["edges"]
    assert {edge["node"]["subscription"] is None for edge in edges} == {True, False}
    executions.clear()
    headers = {"Authorization": f"Bearer {token}"}
    again = await api.client.post("/graphql", json={"query": query}, headers=headers)
    assert again.json() == body and executions == []


async def test_a_page_alone_says_whether_there_is_a_viewer_in_one_statement(
    world: World, api: Api, settings: Settings, db: Database, mailbox: Mailbox
) -> None:
    """A viewer asked for a page and nothing of its accounts is read in one statement, which
    also finds that there is no viewer once the session's email has no account left."""
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")
    email = unique_email("moving")
    business = await world.business()
    account = await customer_of(world, business, email)
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": email},
    )
    token = (await api.sign_in(token_of(await mailbox.link_for(email))))["accessToken"]
    page = "query { viewer { scope invoices(first: 2) { totalCount edges { node { number } } } } }"
    body, sent = await both_paths(api, settings, page, token=token)
    assert body["data"]["viewer"]["invoices"]["totalCount"] == 6
    assert len(sent) == 1
    async with db.transaction() as session:
        row = await session.get(CustomerAccount, account.id)
        assert row is not None
        row.email_normalized = unique_email("elsewhere")
    body, sent = await both_paths(api, settings, page, token=token)
    assert body == {"data": {"viewer": None}}
    assert len(sent) == 1
