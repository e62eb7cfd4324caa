"""Dashboard benchmark: our GraphQL stack against one hand-written SQL query.

    .venv/bin/python bench/dashboard.py [--seconds 15] [--concurrency 8]

On PostgreSQL (PORTAL_BENCH_DATABASE_URL, default the local server; a fresh
database is created and dropped), it builds a business whose customer has 200
subscriptions and 2,000 invoices (each with a line and a payment), serves the
app with uvicorn on loopback, signs in through createPortalSession + signIn, and
runs bench/dashboard.graphql with N concurrent clients for a bounded time. It
prints SQL statements per request, requests per second, p50 and p99 latency,
next to the same figures for one hand-written SQL query that returns the same
data as JSON through asyncpg (the floor for our stack). Twice: for a customer of one business in a
BUSINESS session, and for a customer of 20 businesses (10 subscriptions and
100 invoices at each) in a UNIFIED session.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
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


async def statements_per_request(db: Database, settings: Settings, access_token: str) -> int:
    statements: list[str] = []

    def note(*_: Any) -> None:
        statements.append("x")

    app = create_app(settings, db, background=False)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url=settings.public_url
        ) as client,
    ):
        headers = {"Authorization": f"Bearer {access_token}"}
        await client.post("/graphql", json={"query": DASHBOARD}, headers=headers)  # warm up
        for engine in (db.engine, db.read_engine):
            event.listen(engine.sync_engine, "before_cursor_execute", note)
        response = await client.post("/graphql", json={"query": DASHBOARD}, headers=headers)
        for engine in (db.engine, db.read_engine):
            event.remove(engine.sync_engine, "before_cursor_execute", note)
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["viewer"]["invoices"]["totalCount"] == INVOICES
    assert body["data"]["viewer"]["subscriptions"]["totalCount"] == SUBSCRIPTIONS
    return len(statements)


async def load(
    call: Callable[[], Awaitable[int]], seconds: float, concurrency: int
) -> tuple[float, float, float, int]:
    """Requests per second, p50 and p99 in ms, response bytes of the last call."""
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
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000, size


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


async def scenario(
    label: str, businesses: int, url: str, db: Database, args: argparse.Namespace
) -> list[str]:
    """Build the world, serve it, load it; the table rows for it."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    email = f"{slug}.{uuid.uuid4().hex[:6]}@example.com"
    api_key, customer_gid, account_id = await build_world(db, businesses, email)
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PORTAL_DATABASE_URL=url, PORTAL_PUBLIC_URL=public,
               PORTAL_LOG_LEVEL="WARNING")  # fmt: skip
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portal_gateway.cli", "serve", "--port", str(port), env=env
    )
    try:
        limits = httpx.Limits(max_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=public, limits=limits, timeout=60) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            if businesses == 1:
                token = await business_token(client, api_key, customer_gid)
            else:
                token = await unified_token(db, email, public)
            access = await sign_in(client, token)
            settings = Settings(database_url=url, public_url=public)
            per_request = await statements_per_request(db, settings, access)
            headers = {"Authorization": f"Bearer {access}"}

            async def graphql_call() -> int:
                response = await client.post("/graphql", json={"query": DASHBOARD}, headers=headers)
                assert response.status_code == 200
                return len(response.content)

            ours = await load(graphql_call, args.seconds, args.concurrency)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)

    pg = make_url(url)
    pool = await asyncpg.create_pool(
        host=pg.host, port=pg.port or 5432, user=pg.username, password=pg.password,
        database=pg.database, min_size=args.concurrency, max_size=args.concurrency,
    )  # fmt: skip

    sql, argument = (
        (BUSINESS_SQL, account_id) if businesses == 1 else (UNIFIED_SQL, canonical_email(email))
    )

    async def sql_call() -> int:
        async with pool.acquire() as connection:
            text = await connection.fetchval(sql, argument)
        return len(text)

    floor = await load(sql_call, args.seconds, args.concurrency)
    await pool.close()
    return [
        f"{label + ', GraphQL':42} {per_request:>9} {ours[0]:>8.1f} {ours[1]:>8.1f} "
        f"{ours[2]:>8.1f} {ours[3]:>8}",
        f"{label + ', hand-written SQL':42} {1:>9} {floor[0]:>8.1f} {floor[1]:>8.1f} "
        f"{floor[2]:>8.1f} {floor[3]:>8}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_async(url)
        db = Database(url)
        rows = await scenario("1 business (BUSINESS)", 1, url, db, args)
        rows += await scenario("20 businesses (UNIFIED)", 20, url, db, args)
        await db.dispose()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"\ndashboard: one customer with {SUBSCRIPTIONS} subscriptions and {INVOICES} invoices "
        f"(first: 100 per list); {args.concurrency} concurrent clients, {args.seconds:.0f} s "
        "each, PostgreSQL, one uvicorn worker"
    )
    print(f"{'':42} {'stmts/req':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
