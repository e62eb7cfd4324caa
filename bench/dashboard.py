"""Dashboard benchmark: compiled reads, Strawberry, and hand-written SQL, side by side.

    .venv/bin/python bench/dashboard.py [--seconds 5] [--rounds 5] [--concurrency 8]
        [--plan-cache-mode auto|force_custom_plan|force_generic_plan]

On PostgreSQL (PORTAL_BENCH_DATABASE_URL, default the local server; a fresh database is
created and dropped), it builds two customers, each with 200 subscriptions and 2,000
invoices (each with a line and a payment): one at a single business, signed in through
createPortalSession + signIn (a BUSINESS session), and one spread over 20 businesses (10
subscriptions and 100 invoices at each), signed in with an emailed unified link (a UNIFIED
session). For both it loads two pages with N concurrent clients: bench/dashboard.graphql
(every connection at first: 100) and bench/small_page.graphql (the newest 10 invoices).

The contenders, each a process of its own with one uvicorn worker on loopback, all running
the whole time:

- compiled: `portal_gateway.cli serve` with PORTAL_COMPILED_READS=true;
- strawberry: the same with PORTAL_COMPILED_READS=false (every read through the resolvers);
- floor: one hand-written SQL statement that builds the same data as JSON, scoped as the
  session is. For the dashboard, run by asyncpg in this process, with plan_cache_mode auto
  and force_custom_plan (a pool each). For the small page, served over HTTP by a bare
  Starlette endpoint (bench/floor_server.py: asyncpg pool, no GraphQL, no sign-in) and
  loaded by the same client code, and run in this process too.

Both servers and the Starlette floor get the plan_cache_mode of --plan-cache-mode
(PORTAL_DB_PLAN_CACHE_MODE; default unset: the server's); the small page's in-process floor
runs with auto. Both customers live in the one database, ANALYZEd once built. The
contenders run in interleaved rounds (each once per round, --seconds each, after a short
warm-up); the table shows the median over rounds of requests/s, p50 and p99 latency, SQL
statements per request (counted once, in-process: SQLAlchemy's cursor executions on both
engines plus asyncpg's Connection.fetch, which the compiled path reads with), the server
process's user + system CPU per request (from /proc, in clock ticks: coarse on short rounds;
a dash for a floor in this process) and response bytes. Every answer is checked (200, no
errors), and once per scenario and page the compiled and Strawberry bodies must be
identical and the counts those that were built.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from floor_server import SMALL_PAGE_BUSINESS_SQL, SMALL_PAGE_UNIFIED_SQL
from sqlalchemy import event, insert
from sqlalchemy.engine import make_url

from portal_gateway.app import create_app
from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.core.cards import CardBrand
from portal_gateway.core.emails import canonical_email
from portal_gateway.core.ids import encode_global_id, new_id
from portal_gateway.db import Database
from portal_gateway.migrations.runner import upgrade_async
from portal_gateway.models import (
    CustomerAccount,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    Product,
    ProductCollection,
    Subscription,
)
from portal_gateway.models.enums import (
    ApiKeyMode,
    BillingInterval,
    InvoiceStatus,
    LinkKind,
    PaymentStatus,
    ProductType,
    SubscriptionStatus,
)
from portal_gateway.services.businesses import create_business
from portal_gateway.services.links import mint_link

HERE = Path(__file__).resolve().parent
DASHBOARD = (HERE / "dashboard.graphql").read_text()
SMALL_PAGE = (HERE / "small_page.graphql").read_text()
PAGES = {"dashboard": DASHBOARD, "small page": SMALL_PAGE}
ADMIN_URL = os.environ.get(
    "PORTAL_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SUBSCRIPTIONS = 200
INVOICES = 2000


async def _admin(sql: str) -> None:
    url = make_url(ADMIN_URL)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database or "postgres",
    )  # fmt: skip
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def build_world(db: Database, businesses: int, email: str) -> tuple[str, str, str]:
    """`email` a customer of `businesses` businesses, with SUBSCRIPTIONS subscriptions and
    INVOICES invoices spread evenly over them: the first business's API key and the first
    account's global and local ids."""
    now = clock.now()
    first: tuple[str, str, str] | None = None
    for index in range(businesses):
        async with db.transaction() as session:
            business, key = await create_business(session, f"Bench Co {index}", ApiKeyMode.TEST)
            account = CustomerAccount(
                id=new_id(), business_id=business.id, email=email,
                email_normalized=canonical_email(email), name="Bench Customer",
                created_at=now - timedelta(days=900),
            )  # fmt: skip
            session.add(account)
            await _fill(session, business.id, account, now, businesses)
            business.invoice_sequence = INVOICES // businesses
        first = first or (key, encode_global_id("CustomerAccount", account.id), account.id)
    assert first is not None
    return first


async def _fill(
    session: Any, business_id: str, account: CustomerAccount, now: Any, businesses: int
) -> None:
    collection = ProductCollection(id=new_id(), business_id=business_id, name="Plans")
    session.add(collection)
    await session.flush()
    plans = [
        Product(
            id=new_id(),
            business_id=business_id,
            collection_id=collection.id,
            name=f"Plan {n}",
            type=ProductType.SUBSCRIPTION,
            price_minor=1000 * (n + 1),
            currency="USD",
            billing_interval=BillingInterval.MONTH,
            position=n,
        )
        for n in range(3)
    ]
    session.add_all(plans)
    card = PaymentMethod(
        id=new_id(), business_id=business_id, account_id=account.id, processor_ref="pm_bench",
        brand=CardBrand.VISA, last4="4242", exp_month=12, exp_year=2030,
    )  # fmt: skip
    session.add(card)
    await session.flush()
    subscriptions = SUBSCRIPTIONS // businesses
    subscription_rows = [
        {
            "id": new_id(),
            "business_id": business_id,
            "account_id": account.id,
            "product_id": plans[n % 3].id,
            "status": SubscriptionStatus.ACTIVE,
            "quantity": 1,
            "unit_price_minor": plans[n % 3].price_minor,
            "currency": "USD",
            "billing_interval": BillingInterval.MONTH,
            "current_period_start": now - timedelta(days=10),
            "current_period_end": now + timedelta(days=20),
            "cancel_at_period_end": False,
            "payment_method_id": card.id,
            "dues_minor": 0,
            "created_at": now - timedelta(days=subscriptions - n, seconds=n),
        }
        for n in range(subscriptions)
    ]
    await session.execute(insert(Subscription), subscription_rows)
    invoices, lines, payments = [], [], []
    for n in range(INVOICES // businesses):
        invoice_id = new_id()
        issued = now - timedelta(hours=INVOICES - n, seconds=n)
        subscription_id = subscription_rows[n % subscriptions]["id"]
        invoices.append(
            {
                "id": invoice_id,
                "business_id": business_id,
                "account_id": account.id,
                "subscription_id": subscription_id,
                "number": f"BENCH-2026-{n + 1:06d}",
                "sequence": n + 1,
                "status": InvoiceStatus.PAID,
                "issued_at": issued,
                "currency": "USD",
                "subtotal_minor": 1000,
                "tax_minor": 0,
                "total_minor": 1000,
                "credit_applied_minor": 0,
                "billing_name": account.name,
                "billing_email": account.email,
                "locale": account.locale,
                "seller_name": "Bench Business",
                "created_at": issued,
            }
        )
        lines.append(
            {
                "id": new_id(),
                "invoice_id": invoice_id,
                "business_id": business_id,
                "position": 0,
                "description": "Plan",
                "quantity": 1,
                "unit_amount_minor": 1000,
                "amount_minor": 1000,
                "tax_minor": 0,
                "proration": False,
            }
        )
        payments.append(
            {
                "id": new_id(),
                "business_id": business_id,
                "account_id": account.id,
                "subscription_id": subscription_id,
                "invoice_id": invoice_id,
                "payment_method_id": card.id,
                "amount_minor": 1000,
                "currency": "USD",
                "status": PaymentStatus.SUCCEEDED,
                "purpose": "renewal",
                "created_at": issued,
                "updated_at": issued,
            }
        )
    await session.execute(insert(Invoice), invoices)
    await session.execute(insert(InvoiceLine), lines)
    await session.execute(insert(Payment), payments)


async def unified_token(db: Database, email: str, public: str) -> str:
    """The token of a unified link, as the outbox would email it."""
    async with db.transaction() as session:
        link = await mint_link(
            session, base_url=public, kind=LinkKind.EMAILED_UNIFIED,
            email_normalized=canonical_email(email), expires_at=clock.now() + timedelta(hours=1),
        )  # fmt: skip
    return link.token


async def business_token(client: httpx.AsyncClient, api_key: str, customer_id: str) -> str:
    link = await client.post(
        "/graphql",
        json={
            "query": "mutation($c: ID!) { createPortalSession(input: {customerId: $c}) "
            "{ ... on PortalLink { url } } }",
            "variables": {"c": customer_id},
        },
        headers={"Authorization": f"Bearer {api_key}"},
    )
    return httpx.URL(link.json()["data"]["createPortalSession"]["url"]).params["token"]


async def sign_in(client: httpx.AsyncClient, token: str) -> str:
    signed = await client.post(
        "/graphql",
        json={
            "query": "mutation($t: String!) { signIn(input: {token: $t}) "
            "{ ... on SignInSuccess { accessToken } } }",
            "variables": {"t": token},
        },
    )
    access: str = signed.json()["data"]["signIn"]["accessToken"]
    return access


HAND_WRITTEN_SQL_TEMPLATE = """
SELECT json_build_object(
  'accounts', (SELECT json_agg(json_build_object('id', a.id, 'name', a.name,
                 'business', json_build_object('id', b.id, 'name', b.name)))
               FROM customer_accounts a JOIN businesses b ON b.id = a.business_id
               WHERE a.id IN {accounts}),
  'subscriptions', json_build_object(
    'totalCount', (SELECT count(*) FROM subscriptions WHERE account_id IN {accounts}),
    'edges', (SELECT json_agg(x) FROM (
      SELECT s.id, s.status, s.unit_price_minor * s.quantity AS recurring, s.currency,
             s.current_period_end, s.dues_minor,
             json_build_object('id', b.id, 'name', b.name) AS business,
             json_build_object('id', p.id, 'name', p.name, 'price', p.price_minor) AS product,
             json_build_object('id', pm.id, 'brand', pm.brand, 'last4', pm.last4) AS card,
             (SELECT json_agg(json_build_object('id', o.id, 'name', o.name, 'price', o.price_minor))
                FROM products o WHERE o.collection_id = p.collection_id AND o.id <> p.id) AS options
      FROM subscriptions s JOIN businesses b ON b.id = s.business_id
      JOIN products p ON p.id = s.product_id
      LEFT JOIN payment_methods pm ON pm.id = s.payment_method_id
      WHERE s.account_id IN {accounts} ORDER BY s.created_at DESC, s.id DESC LIMIT 100) x)),
  'invoices', json_build_object(
    'totalCount', (SELECT count(*) FROM invoices WHERE account_id IN {accounts}),
    'edges', (SELECT json_agg(x) FROM (
      SELECT i.id, i.number, i.status, i.total_minor, i.currency, i.subscription_id,
             json_build_object('id', b.id, 'name', b.name) AS business,
             (SELECT json_agg(json_build_object('description', l.description,
                       'quantity', l.quantity, 'amount', l.amount_minor) ORDER BY l.position)
                FROM invoice_lines l WHERE l.invoice_id = i.id) AS lines,
             (SELECT json_build_object('id', pa.id, 'status', pa.status) FROM payments pa
                WHERE pa.invoice_id = i.id ORDER BY pa.created_at DESC LIMIT 1) AS payment
      FROM invoices i JOIN businesses b ON b.id = i.business_id
      WHERE i.account_id IN {accounts} ORDER BY i.created_at DESC, i.id DESC LIMIT 100) x)),
  'payments', json_build_object(
    'totalCount', (SELECT count(*) FROM payments WHERE account_id IN {accounts}),
    'edges', (SELECT json_agg(x) FROM (
      SELECT pa.id, pa.amount_minor, pa.currency, pa.status,
             json_build_object('id', b.id, 'name', b.name) AS business,
             json_build_object('id', pm.id, 'brand', pm.brand, 'last4', pm.last4) AS card,
             json_build_object('id', i.id, 'number', i.number) AS invoice
      FROM payments pa JOIN businesses b ON b.id = pa.business_id
      LEFT JOIN payment_methods pm ON pm.id = pa.payment_method_id
      LEFT JOIN invoices i ON i.id = pa.invoice_id
      WHERE pa.account_id IN {accounts} ORDER BY pa.created_at DESC, pa.id DESC LIMIT 100) x)),
  'purchases', json_build_object(
    'totalCount', (SELECT count(*) FROM purchases WHERE account_id IN {accounts}),
    'edges', (SELECT json_agg(x) FROM (
      SELECT pu.id, pu.total_minor, pu.currency, pu.invoice_id, pu.subscription_id,
             json_build_object('id', b.id, 'name', b.name) AS business,
             json_build_object('id', p.id, 'name', p.name) AS product,
             (SELECT json_agg(json_build_object('id', k.id, 'key', k.key)) FROM license_keys k
                WHERE k.purchase_id = pu.id) AS license_keys
      FROM purchases pu JOIN businesses b ON b.id = pu.business_id
      JOIN products p ON p.id = pu.product_id
      WHERE pu.account_id IN {accounts} ORDER BY pu.created_at DESC, pu.id DESC LIMIT 100) x)),
  'licenseKeys', json_build_object(
    'totalCount', (SELECT count(*) FROM license_keys WHERE account_id IN {accounts}),
    'edges', (SELECT json_agg(x) FROM (
      SELECT k.id, k.key, k.status, json_build_object('id', b.id, 'name', b.name) AS business,
             json_build_object('id', p.id, 'name', p.name) AS product
      FROM license_keys k JOIN businesses b ON b.id = k.business_id
      JOIN products p ON p.id = k.product_id
      WHERE k.account_id IN {accounts} ORDER BY k.created_at DESC, k.id DESC LIMIT 100) x)),
  'paymentMethods', (SELECT json_agg(json_build_object('id', pm.id, 'brand', pm.brand,
                       'last4', pm.last4,
                       'business', json_build_object('id', b.id, 'name', b.name)))
                     FROM payment_methods pm JOIN businesses b ON b.id = pm.business_id
                     WHERE pm.account_id IN {accounts} AND pm.detached_at IS NULL)
)::text
"""
# As our scope does it: one account by id (BUSINESS), or every account of the email (UNIFIED).
BUSINESS_SQL = HAND_WRITTEN_SQL_TEMPLATE.format(accounts="($1)")
UNIFIED_SQL = HAND_WRITTEN_SQL_TEMPLATE.format(
    accounts="(SELECT id FROM customer_accounts WHERE email_normalized = $1)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Measuring.


@dataclass
class Sample:
    rate: float  # requests per second
    p50: float  # ms
    p99: float  # ms
    size: int  # response bytes (the last one)
    cpu: float | None  # server CPU ms per request; None in this process


@dataclass
class Contender:
    scenario: str
    page: str
    name: str
    call: Callable[[], Awaitable[int]]
    pid: int | None  # the server process whose CPU a request costs; None: this process
    statements: int
    samples: list[Sample] = field(default_factory=list)

    def median(self, figure: str) -> float:
        return statistics.median(getattr(sample, figure) for sample in self.samples)


async def load(
    call: Callable[[], Awaitable[int]], seconds: float, concurrency: int
) -> tuple[float, float, float, int, int]:
    """Requests per second, p50 and p99 in ms, response bytes of the last call, requests."""
    latencies: list[float] = []
    size = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal size
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            size = await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        p99 * 1000,
        size,
        len(latencies),
    )


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, as /proc lists them now."""
    tree, index = [pid], 0
    while index < len(tree):
        for children in Path(f"/proc/{tree[index]}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                tree += [int(child) for child in children.read_text().split()]
        index += 1
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its children so far, in seconds."""
    ticks = 0
    for member in _process_tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # from field 3 (state) on
        ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def statements_per_request(
    db: Database, url: str, public: str, access_token: str, query: str, *, compiled: bool
) -> tuple[int, int]:
    """The SQL statements one request for `query` sends, on the compiled path or not: through
    the SQLAlchemy engines, and through asyncpg's Connection.fetch (the compiled path's)."""
    through_orm: list[str] = []
    through_fetch: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_orm.append(statement)

    fetch = asyncpg.connection.Connection.fetch

    async def counted_fetch(connection: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        through_fetch.append(sql)
        return await fetch(connection, sql, *args, **kwargs)

    settings = Settings(database_url=url, public_url=public, compiled_reads=compiled)
    app = create_app(settings, db, background=False)
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url=settings.public_url
        ) as client,
    ):
        await client.post("/graphql", json={"query": query}, headers=headers)  # warm up
        for engine in (db.engine, db.read_engine):
            event.listen(engine.sync_engine, "before_cursor_execute", note)
        asyncpg.connection.Connection.fetch = counted_fetch  # type: ignore[method-assign]
        try:
            response = await client.post("/graphql", json={"query": query}, headers=headers)
        finally:
            asyncpg.connection.Connection.fetch = fetch  # type: ignore[method-assign]
            for engine in (db.engine, db.read_engine):
                event.remove(engine.sync_engine, "before_cursor_execute", note)
    check_graphql(response)
    return len(through_orm), len(through_fetch)


def check_graphql(response: httpx.Response) -> None:
    """200 and no errors."""
    assert response.status_code == 200, (response.status_code, response.text[:500])
    if b'"errors"' in response.content:  # cheap first: most answers never say it
        body = response.json()
        assert "errors" not in body, body["errors"]


def check_totals(page: str, data: dict[str, Any]) -> None:
    """The counts that were built."""
    assert data["invoices"]["totalCount"] == INVOICES, data["invoices"]["totalCount"]
    if page == "dashboard":
        assert data["subscriptions"]["totalCount"] == SUBSCRIPTIONS


def first_difference(a: Any, b: Any, path: str = "$") -> tuple[str, Any, Any] | None:
    """Where two JSON values first differ (keys' order counts): path and both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path} (keys)", list(a), list(b)
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None if len(a) == len(b) else (f"{path} (length)", len(a), len(b))
    return None if json.dumps(a) == json.dumps(b) else (path, a, b)


def graphql_call(
    client: httpx.AsyncClient, query: str, headers: dict[str, str]
) -> Callable[[], Awaitable[int]]:
    payload = {"query": query}

    async def call() -> int:
        response = await client.post("/graphql", json=payload, headers=headers)
        check_graphql(response)
        return len(response.content)

    return call


def sql_call(pool: asyncpg.Pool, sql: str, argument: str) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        async with pool.acquire() as connection:
            text: str = await connection.fetchval(sql, argument)
        return len(text)

    return call


def floor_call(client: httpx.AsyncClient, params: dict[str, str]) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        response = await client.get("/page", params=params)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        return len(response.content)

    return call


# The processes.


async def start(argv: list[str], env: dict[str, str], public: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(*argv, env=env)
    deadline = time.perf_counter() + 60
    async with httpx.AsyncClient(base_url=public) as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{argv} exited with {process.returncode}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{argv}: no answer on {public}/healthz")
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout=10)
    except TimeoutError:
        process.kill()
        await process.wait()


@dataclass
class Customer:
    label: str
    businesses: int
    email: str
    api_key: str
    customer_gid: str
    account_id: str
    access: str = ""

    @property
    def scope(self) -> tuple[str, str]:
        """As the session scopes its reads: one account by id, or every account of the
        email."""
        if self.businesses == 1:
            return "account", self.account_id
        return "email", canonical_email(self.email)


async def customer(label: str, businesses: int, db: Database) -> Customer:
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    email = f"{slug}.{uuid.uuid4().hex[:6]}@example.com"
    return Customer(label, businesses, email, *await build_world(db, businesses, email))


async def contenders_for(
    who: Customer,
    db: Database,
    url: str,
    servers: dict[str, tuple[asyncio.subprocess.Process, httpx.AsyncClient, str]],
    floors: dict[str, asyncpg.Pool],
) -> list[Contender]:
    """Every contender for `who`, both pages; each checked once."""
    headers = {"Authorization": f"Bearer {who.access}"}
    kind, argument = who.scope
    contenders = []
    for page, query in PAGES.items():
        bodies = {}
        for name in ("compiled", "strawberry"):
            process, client, public = servers[name]
            orm, fetched = await statements_per_request(
                db, url, public, who.access, query, compiled=name == "compiled"
            )
            if name == "compiled" and not fetched:
                print(f"note: {who.label}, {page}: the compiled path sent nothing", file=sys.stderr)
            response = await client.post("/graphql", json={"query": query}, headers=headers)
            check_graphql(response)
            bodies[name] = response.json()
            check_totals(page, bodies[name]["data"]["viewer"])

            call = graphql_call(client, query, headers)
            contenders.append(Contender(who.label, page, name, call, process.pid, orm + fetched))
        if json.dumps(bodies["compiled"]) != json.dumps(bodies["strawberry"]):
            difference = first_difference(bodies["compiled"], bodies["strawberry"])
            path, ours, theirs = difference or ("$ (order of keys)", None, None)
            raise AssertionError(
                f"{who.label}, {page}: the compiled and Strawberry bodies differ first at "
                f"{path}: compiled {ours!r}, strawberry {theirs!r}"
            )

        if page == "small page":
            process, client, _ = servers["floor"]
            params = {kind: argument}
            data = (await client.get("/page", params=params)).json()
            check_totals(page, {"invoices": data})
            name = "floor: Starlette + asyncpg, HTTP"
            call = floor_call(client, params)
            contenders.append(Contender(who.label, page, name, call, process.pid, 1))

        in_process = (
            {mode: floors[mode] for mode in ("auto", "force_custom_plan")}
            if page == "dashboard"
            else {"auto": floors["auto"]}
        )
        if page == "dashboard":
            sql = BUSINESS_SQL if kind == "account" else UNIFIED_SQL
        else:
            sql = SMALL_PAGE_BUSINESS_SQL if kind == "account" else SMALL_PAGE_UNIFIED_SQL
        for mode, pool in in_process.items():
            async with pool.acquire() as connection:
                data = json.loads(await connection.fetchval(sql, argument))
            check_totals(page, data if page == "dashboard" else {"invoices": data})
            name = f"floor: asyncpg in-process, {mode}"
            call = sql_call(pool, sql, argument)
            contenders.append(Contender(who.label, page, name, call, None, 1))
    return contenders


async def measure(contenders: list[Contender], args: argparse.Namespace) -> None:
    """Interleaved rounds: every contender once a round, after a warm-up."""
    for contender in contenders:
        await load(contender.call, min(1.0, args.seconds / 2), args.concurrency)
    for number in range(1, args.rounds + 1):
        for contender in contenders:
            before = cpu_seconds(contender.pid) if contender.pid else 0.0
            rate, p50, p99, size, requests = await load(
                contender.call, args.seconds, args.concurrency
            )
            cpu = None
            if contender.pid:
                cpu = (cpu_seconds(contender.pid) - before) * 1000 / requests
            contender.samples.append(Sample(rate, p50, p99, size, cpu))
        print(f"round {number}/{args.rounds} done", file=sys.stderr)


# The report.


def report(contenders: list[Contender], args: argparse.Namespace, postgres: str) -> str:
    mode = args.plan_cache_mode or "the server's default"
    lines = [
        f"Each customer: {SUBSCRIPTIONS} subscriptions and {INVOICES:,} invoices (a line and "
        "a payment each); dashboard at first: 100 per connection, small page the newest 10 "
        f"invoices. {args.concurrency} concurrent clients; {args.rounds} interleaved rounds "
        f"x {args.seconds:g} s per contender, medians over rounds; PostgreSQL {postgres}, "
        f"servers' plan_cache_mode: {mode}; one uvicorn worker each (compiled, strawberry, "
        "Starlette floor).",
        "",
        "| scenario | page | contender | req/s | p50 | p99 | stmts/req | CPU ms/req | bytes |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    groups: dict[tuple[str, str], list[Contender]] = {}
    for contender in contenders:
        groups.setdefault((contender.scenario, contender.page), []).append(contender)
    summaries = []
    for (scenario, page), group in groups.items():
        by_name = {contender.name: contender for contender in group}
        floors = [contender for contender in group if contender.name.startswith("floor")]
        best = max(floors, key=lambda contender: contender.median("rate"))
        for contender in group:
            cpus = [sample.cpu for sample in contender.samples if sample.cpu is not None]
            cpu = f"{statistics.median(cpus):.2f}" if cpus else "–"  # noqa: RUF001
            size = statistics.median_low(sample.size for sample in contender.samples)
            name = contender.name + (" (fastest floor)" if contender is best else "")
            lines.append(
                f"| {scenario} | {page} | {name} | {contender.median('rate'):,.1f} | "
                f"{contender.median('p50'):,.1f} | {contender.median('p99'):,.1f} | "
                f"{contender.statements} | {cpu} | {size:,} |"
            )
        compiled, strawberry = by_name["compiled"], by_name["strawberry"]
        summary = (
            f"{scenario}, {page}: compiled {compiled.median('rate'):,.1f} req/s = "
            f"{100 * compiled.median('rate') / best.median('rate'):.1f}% of the fastest floor "
            f"({best.name}, {best.median('rate'):,.1f} req/s), "
            f"{compiled.median('rate') / strawberry.median('rate'):.1f}x strawberry's; "
            f"compiled p99/p50 = {compiled.median('p99') / compiled.median('p50'):.2f}"
        )
        starlette = by_name.get("floor: Starlette + asyncpg, HTTP")
        if starlette:
            summary += (
                f"; compiled p50 ÷ Starlette floor p50 = "
                f"{compiled.median('p50') / starlette.median('p50'):.2f}"
            )
        summaries.append(summary)
    return "\n".join([*lines, "", *summaries])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per contender per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--plan-cache-mode",
        choices=["auto", "force_custom_plan", "force_generic_plan"],
        help="PORTAL_DB_PLAN_CACHE_MODE of the servers (default: unset)",
    )
    args = parser.parse_args()

    database = f"portal_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{database}"')
    url = make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    processes: list[asyncio.subprocess.Process] = []
    pools: dict[str, asyncpg.Pool] = {}
    db: Database | None = None
    try:
        await upgrade_async(url)
        db = Database(url)
        ports = {name: _free_port() for name in ("compiled", "strawberry", "floor")}
        publics = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        customers = [
            await customer("BUSINESS, 1 business", 1, db),
            await customer("UNIFIED, 20 businesses", 20, db),
        ]
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("ANALYZE")  # plans as they will be, not mid-run
            postgres = await connection.fetchval("SHOW server_version")
        finally:
            await connection.close()

        env = dict(os.environ, PORTAL_DATABASE_URL=url, PORTAL_LOG_LEVEL="WARNING")
        env.pop("PORTAL_DB_PLAN_CACHE_MODE", None)
        if args.plan_cache_mode:
            env["PORTAL_DB_PLAN_CACHE_MODE"] = args.plan_cache_mode
        for name, compiled in (("compiled", "true"), ("strawberry", "false")):
            processes.append(
                await start(
                    [sys.executable, "-m", "portal_gateway.cli", "serve", "--port",
                     str(ports[name])],
                    dict(env, PORTAL_PUBLIC_URL=publics[name], PORTAL_COMPILED_READS=compiled),
                    publics[name],
                )
            )  # fmt: skip
        floor_argv = [sys.executable, str(HERE / "floor_server.py"), "--port", str(ports["floor"])]
        if args.plan_cache_mode:
            floor_argv += ["--plan-cache-mode", args.plan_cache_mode]
        processes.append(
            await start(floor_argv, dict(os.environ, FLOOR_DATABASE_URL=dsn), publics["floor"])
        )
        for mode in ("auto", "force_custom_plan"):
            pools[mode] = await asyncpg.create_pool(
                dsn, min_size=args.concurrency, max_size=args.concurrency,
                server_settings={"plan_cache_mode": mode},
            )  # fmt: skip

        limits = httpx.Limits(max_connections=args.concurrency)
        async with contextlib.AsyncExitStack() as stack:
            servers = {}
            for (name, public), process in zip(publics.items(), processes, strict=True):
                client = httpx.AsyncClient(base_url=public, limits=limits, timeout=60)
                servers[name] = (process, await stack.enter_async_context(client), public)
            contenders: list[Contender] = []
            for who in customers:
                client = servers["compiled"][1]
                if who.businesses == 1:
                    token = await business_token(client, who.api_key, who.customer_gid)
                else:
                    token = await unified_token(db, who.email, publics["compiled"])
                who.access = await sign_in(client, token)
                contenders += await contenders_for(who, db, url, servers, pools)
            await db.dispose()
            db = None
            await measure(contenders, args)
        print()
        print(report(contenders, args, postgres))
    finally:
        for pool in pools.values():
            await pool.close()
        for process in processes:
            await stop(process)
        if db is not None:
            await db.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
