"""The compiled read path under attack: aliases, plans shared by principals at once, types
that do not compile, what a cached plan keeps. Written by an adversarial review; every
query is answered by both paths and compared, or checked against what the scope rules
give.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from portal_gateway.compiled import executor as compiled_executor
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.models import Invoice, Subscription
from portal_gateway.models.enums import SubscriptionStatus
from portal_gateway.resolvers.context import Context
from tests.api import Api, token_of
from tests.compiled import customer_of, post
from tests.compiled import paths as both_responses
from tests.factories import Merchant, World, gid, unique_email
from tests.mail import Mailbox


@pytest.fixture(autouse=True)
def _compiled_reads_on(settings: Settings) -> None:
    """These tests are about the compiled path: on, whatever PORTAL_COMPILED_READS says for
    the rest of the suite."""
    settings.compiled_reads = True


def _skip_sqlite(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads through Strawberry only")


def _fresh(query: str) -> str:
    """The query with a comment of its own: a text no other test has had a plan cached for."""
    return f"# {uuid.uuid4().hex}\n{query}"


async def paths(
    api: Api,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    operation_name: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The compiled body, the reference (Strawberry) body, and the compiled statements."""
    compiled, reference, sent = await both_responses(
        api, settings, query, variables, token=token, operation_name=operation_name
    )
    return compiled.json(), reference.json(), sent


def same(compiled: dict[str, Any], reference: dict[str, Any]) -> None:
    assert json.dumps(compiled) == json.dumps(reference)


async def _unified(api: Api, mailbox: Mailbox, email: str) -> str:
    await api.gql(
        "mutation($e: String!) { requestSignInLink(input: {email: $e}) { __typename } }",
        {"e": email},
    )
    token: str = (await api.sign_in(token_of(await mailbox.link_for(email))))["accessToken"]
    return token


def _plans_of(text: str) -> list[Any]:
    return [plan for key, plan in compiled_executor._plans.items() if key[0] == text]


def _reachable(root: Any, wanted: type, depth: int = 14) -> list[Any]:
    """Instances of `wanted` reachable from `root` through attributes, containers and
    closures (not through a function's module globals)."""
    import types

    seen: set[int] = set()
    frontier: list[Any] = [root]
    found: list[Any] = []
    for _ in range(depth):
        following: list[Any] = []
        for item in frontier:
            if id(item) in seen or isinstance(item, type | types.ModuleType):
                continue
            seen.add(id(item))
            if isinstance(item, wanted):
                found.append(item)
                continue
            if isinstance(item, types.FunctionType):
                following.extend(cell.cell_contents for cell in item.__closure__ or ())
                following.extend(item.__defaults__ or ())
            elif isinstance(item, types.MethodType):
                following.append(item.__self__)
            elif isinstance(item, dict):
                following.extend(item.values())
            elif isinstance(item, list | tuple | set | frozenset):
                following.extend(item)
            else:
                following.extend(getattr(item, "__dict__", {}).values())
                for klass in type(item).__mro__:
                    for slot in getattr(klass, "__slots__", ()):
                        if isinstance(slot, str) and hasattr(item, slot):
                            following.append(getattr(item, slot))
        frontier = following
    return found


# ---------------------------------------------------------------------------------------
# Bugs


async def test_aliased_products_of_a_plan_change_option_get_only_their_own_selection(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """`a: product { id } b: product { name }` under a plan-change option: two objects,
    each with its own selection (the merged selection once answered both with both)."""
    _skip_sqlite(db)
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    query = _fresh(
        """
        { viewer { subscriptions(first: 10) { edges { node {
            planChangeOptions { direction a: product { id } b: product { name } }
        } } } } }
        """
    )
    compiled, reference, sent = await paths(api, settings, query, token=token)
    assert sent, "the compiled path answered"
    options = [
        option
        for edge in reference["data"]["viewer"]["subscriptions"]["edges"]
        for option in edge["node"]["planChangeOptions"]
    ]
    assert options, "the active subscription has options"
    assert set(options[0]["a"]) == {"id"}
    same(compiled, reference)


async def test_a_node_type_that_does_not_compile_does_not_grow_the_cached_plan(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """A node type whose selection does not compile (a preview beside a nested page) sends
    its ids to Strawberry, and the cached plan stays the size it was made: what the type
    had begun to bind is undone (once it grew by a binder and two helpers per request)."""
    _skip_sqlite(db)
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    query = _fresh(
        """
        query($ids: [ID!]!) { nodes(ids: $ids) {
          id
          ... on Subscription {
            invoices(first: 1) { totalCount }
            planChangePreview(productId: "UHJvZHVjdDp4") { __typename }
          }
        } }
        """
    )
    async with db.read_sessions() as session:
        subscription_id = (
            await session.scalars(
                select(Subscription.id).where(Subscription.account_id == account.id)
            )
        ).first()
    assert subscription_id is not None
    ids = {"ids": [gid("Subscription", subscription_id)]}
    sizes = []
    for _ in range(5):
        compiled, reference, sent = await paths(api, settings, query, ids, token=business.api_key)
        assert "errors" not in reference and not sent  # Strawberry answers it, rightly
        same(compiled, reference)
        [plan] = _plans_of(query)
        sizes.append((len(plan.compiler.binders), len(plan.compiler.env)))
    assert sizes[-1] == sizes[0], sizes


async def test_a_cached_plan_keeps_no_request_of_the_caller_that_compiled_it(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """The plan cache lives as long as the process: a plan must not keep the request that
    compiled it (its principal, its Authorization header, its loaders), as it once did
    through the collector of that request's executor."""
    _skip_sqlite(db)
    business = await world.business()
    await customer_of(world, business, unique_email())
    query = _fresh("query($id: ID!) { node(id: $id) { id ... on Business { name } } }")
    compiled, reference, sent = await paths(
        api, settings, query, {"id": business.gid}, token=business.api_key
    )
    assert sent
    same(compiled, reference)
    [plan] = _plans_of(query)
    found = _reachable(plan, Context)
    held = [(type(c.principal).__name__, c.request.headers.get("authorization")) for c in found]
    assert not held, held


# ---------------------------------------------------------------------------------------
# Guards: isolation properties that must keep holding.


async def test_guard_business_customers_is_null_for_everyone_but_its_own_api_key(
    world: World, api: Api, settings: Settings, db: Database, mailbox: Mailbox
) -> None:
    """Business.customers reached every way the compiled path compiles (currentBusiness,
    node, nodes, a relation of a node, a nested relation, the viewer's businesses and
    business, a plan-change option's product's business), by the other business's key, a
    BUSINESS session and a UNIFIED session: null; by the business's own key: its customers."""
    _skip_sqlite(db)
    first, second = await world.business(), await world.business()
    email = unique_email("shared")
    at_first = await customer_of(world, first, email)
    await customer_of(world, second, email)
    await customer_of(world, first, unique_email("other"))
    unified = await _unified(api, mailbox, email)
    session = await api.session_for(first, at_first)
    async with db.read_sessions() as read:
        subscription_id = (
            await read.scalars(
                select(Subscription.id).where(
                    Subscription.account_id == at_first.id,
                    Subscription.status == SubscriptionStatus.ACTIVE,
                )
            )
        ).first()
    assert subscription_id is not None
    customers = "customers(first: 100) { totalCount edges { cursor node { id email } } }"
    query = _fresh(
        f"""
        query($b: ID!, $s: ID!) {{
          currentBusiness {{ id {customers} }}
          b: node(id: $b) {{ ... on Business {{ {customers} }} }}
          bs: nodes(ids: [$b, $s]) {{
            ... on Business {{ c1: {customers} }}
            ... on Subscription {{
              business {{ c2: {customers} }}
              account {{ business {{ c3: {customers} }} }}
              planChangeOptions {{ product {{ business {{ c4: {customers} }} }} }}
            }}
          }}
          viewer {{
            business {{ {customers} }}
            businesses {{ {customers} }}
            accounts {{ business {{ {customers} }} }}
          }}
        }}
        """
    )
    variables = {"b": first.gid, "s": gid("Subscription", subscription_id)}
    own = None
    for token in (first.api_key, second.api_key, session, unified):
        compiled, reference, sent = await paths(api, settings, query, variables, token=token)
        assert sent
        same(compiled, reference)
        data = compiled["data"]
        if token == first.api_key:
            own = compiled
            assert data["currentBusiness"]["customers"]["totalCount"] == 2
            assert data["b"]["customers"]["totalCount"] == 2
        else:
            # The second business's key sees its own customers under currentBusiness only.
            text = json.dumps(
                {key: value for key, value in data.items() if key != "currentBusiness"}
            )
            assert '"edges"' not in text, (token, text)
            assert '"totalCount"' not in text
            if token != second.api_key:
                assert data["currentBusiness"] is None
    assert own is not None
    bs = own["data"]["bs"]
    assert bs[0]["c1"]["totalCount"] == 2 and bs[1]["business"]["c2"]["totalCount"] == 2
    assert bs[1]["account"]["business"]["c3"]["totalCount"] == 2
    options = bs[1]["planChangeOptions"]
    assert options and all(o["product"]["business"]["c4"]["totalCount"] == 2 for o in options)


async def test_guard_concurrent_principals_sharing_one_plan_see_only_their_own_rows(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """Many merchants' keys and BUSINESS sessions send one document (viewer connections with
    nested connections and pages, nodes of everyone's ids with nested connections) at once,
    on one cached plan per principal kind, several times over: each answer is exactly the
    caller's own rows, and the same as Strawberry's."""
    _skip_sqlite(db)
    callers: list[tuple[str, Merchant, Any]] = []
    every_id: list[str] = []
    owner: dict[str, tuple[str, str]] = {}  # global id: (business id, account id)
    for _ in range(4):
        business = await world.business()
        account = await customer_of(world, business, unique_email())
        callers.append((business.api_key, business, None))
        callers.append((await api.session_for(business, account), business, account))
        async with db.read_sessions() as read:
            for model, type_name in ((Subscription, "Subscription"), (Invoice, "Invoice")):
                for row_id in await read.scalars(
                    select(model.id).where(model.account_id == account.id)
                ):
                    every_id.append(gid(type_name, row_id))
                    owner[gid(type_name, row_id)] = (business.id, account.id)
        every_id.append(business.gid)
        owner[business.gid] = (business.id, "")
    query = _fresh(
        """
        query($ids: [ID!]!, $n: Int) {
          viewer {
            subscriptions(first: $n) { totalCount edges { cursor node { id
              account { id business { id } }
              invoices(first: $n) { totalCount pageInfo { hasNextPage endCursor }
                                    edges { node { id business { id } } } }
            } } }
            accounts { id subscriptions(first: $n) { totalCount edges { node { id } } } }
          }
          nodes(ids: $ids) {
            id
            ... on Subscription { account { id } invoices(first: $n) { edges { node { id } } } }
            ... on Invoice { subscription { id account { id } } }
            ... on Business { customers(first: $n) { edges { node { id } } } }
          }
        }
        """
    )

    async def ask(token: str, business: Merchant, account: Any, n: int) -> None:
        variables = {"ids": every_id, "n": n}
        response = await post(api, query, variables, token)
        body = response.json()
        assert "errors" not in body, body
        seen = {node["id"] for node in body["data"]["nodes"] if node is not None}
        expected = {
            global_id
            for global_id, (business_id, account_id) in owner.items()
            if business_id == business.id and (account is None or account_id in ("", account.id))
        }
        assert seen == expected
        text = json.dumps(body)
        for global_id, (business_id, account_id) in owner.items():
            if business_id != business.id or (
                account is not None and account_id not in ("", account.id)
            ):
                assert global_id not in text

    for _ in range(3):
        await asyncio.gather(
            *(
                ask(token, business, account, n)
                for token, business, account in callers
                for n in (1, 2, 5)
            )
        )
    for token, _, _ in callers:
        compiled, reference, sent = await paths(
            api, settings, query, {"ids": every_id, "n": 2}, token=token
        )
        assert sent
        same(compiled, reference)


async def test_guard_a_directive_value_gets_a_plan_of_its_own(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """One operation whose fragments include a business's customers and a nested
    connection by variables: each value of each variable is answered as Strawberry does,
    in either order (the plan key holds the directive variables' values)."""
    _skip_sqlite(db)
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    session = await api.session_for(business, account)
    query = _fresh(
        """
        query($c: Boolean!, $s: Boolean!, $id: ID!) {
          node(id: $id) { ...B }
          currentBusiness { ...B }
          viewer { accounts { subscriptions @skip(if: $s) { totalCount } } }
        }
        fragment B on Business {
          name
          customers @include(if: $c) { totalCount }
          ... @skip(if: $c) { staticPortalUrl }
        }
        """
    )
    for token in (business.api_key, session):
        for c in (True, False, True):
            for s in (False, True, False):
                variables = {"c": c, "s": s, "id": business.gid}
                compiled, reference, sent = await paths(
                    api, settings, query, variables, token=token
                )
                assert sent
                same(compiled, reference)


async def test_guard_statements_depend_on_the_document_not_on_the_data(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """A merchant's deep read (customers, their subscriptions, their invoices with lines and
    payment, plan-change options, relations at every level) and the same read by id through
    nodes: as many statements for a business of one customer as for one of six."""
    _skip_sqlite(db)
    query = _fresh(
        """
        query($ids: [ID!]!) {
          currentBusiness { name customers(first: 50) { totalCount edges { node { email
            business { name }
            subscriptions(first: 50) { totalCount edges { node { status product { name }
              planChangeOptions { direction product { name } }
              invoices(first: 50) { totalCount edges { node { number } } }
            } } }
          } } } }
          invoices: nodes(ids: $ids) { ... on Subscription { invoices(first: 50) { edges { node {
            lines { quantity amount { amount } } payment { status paymentMethod { last4 } }
          } } } } }
          nodes(ids: $ids) { id ... on Subscription { invoices { totalCount } account { email } } }
        }
        """
    )
    counts = []
    for customers in (1, 6):
        business = await world.business()
        ids = []
        for _ in range(customers):
            account = await customer_of(world, business, unique_email())
            async with db.read_sessions() as read:
                ids += [
                    gid("Subscription", row_id)
                    for row_id in await read.scalars(
                        select(Subscription.id).where(Subscription.account_id == account.id)
                    )
                ]
        compiled, reference, sent = await paths(
            api, settings, query, {"ids": ids}, token=business.api_key
        )
        same(compiled, reference)
        assert "errors" not in compiled, compiled
        total = compiled["data"]["currentBusiness"]["customers"]["totalCount"]
        assert total == customers
        counts.append(len(sent))
    assert counts[0] == counts[1], counts


async def test_guard_each_operation_of_a_document_keys_plans_by_its_own_directive_variables(
    world: World, api: Api, settings: Settings, db: Database
) -> None:
    """A document of two operations, each with @include on a variable of its own: a plan
    compiled for B with $b=true is not served for $b=false. It failed on this review's first
    run (executor._directive_values cached the names of the directive variables by the
    document's text alone, from whichever operation ran first); 544f241 keys them by
    operation too, and this now guards that."""
    _skip_sqlite(db)
    business = await world.business()
    account = await customer_of(world, business, unique_email())
    token = await api.session_for(business, account)
    query = _fresh(
        """
        query A($a: Boolean!) { viewer { email @include(if: $a) } }
        query B($b: Boolean!) { viewer { name @include(if: $b) } }
        """
    )
    compiled, reference, _ = await paths(
        api, settings, query, {"a": True}, token=token, operation_name="A"
    )
    same(compiled, reference)
    compiled, reference, _ = await paths(
        api, settings, query, {"b": True}, token=token, operation_name="B"
    )
    same(compiled, reference)
    # The plan compiled for $b=true is now served for $b=false.
    compiled, reference, sent = await paths(
        api, settings, query, {"b": False}, token=token, operation_name="B"
    )
    assert reference == {"data": {"viewer": {}}}
    assert sent, "the compiled path answered"
    same(compiled, reference)  # was: {"viewer": {"name": "Pat Customer"}}
