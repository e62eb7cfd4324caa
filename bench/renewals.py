"""Renewal benchmark: how fast one process (and two at once) renews what is due.

    .venv/bin/python bench/renewals.py [--subscriptions 500]

On PostgreSQL (PORTAL_BENCH_DATABASE_URL, default the local server; a fresh database is
created and dropped), one business with N customers, each with one monthly subscription
whose period ended a minute ago: nine in ten on a card that pays, one in ten on one that
declines. It renews them with the test processor (whose ledger is a table in the same
database, so each charge costs what a processor's round trip would not) and prints
renewals per second, SQL statements per renewal, and what was charged: once in one run,
then again with two runs at once on a fresh set, which must charge each period once.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

from dashboard import ADMIN_URL, _admin
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from portal_gateway.core import clock
from portal_gateway.core.cards import CardBrand
from portal_gateway.core.emails import canonical_email
from portal_gateway.core.ids import new_id
from portal_gateway.db import Database
from portal_gateway.migrations.runner import upgrade_async
from portal_gateway.models import CustomerAccount, Payment, PaymentMethod, Product, Subscription
from portal_gateway.models.enums import (
    ApiKeyMode,
    BillingInterval,
    PaymentStatus,
    ProductType,
    SubscriptionStatus,
)
from portal_gateway.payments.test_processor import TestProcessor
from portal_gateway.services.businesses import create_business
from portal_gateway.services.renewals import Outcome, renew_due


async def build(db: Database, subscriptions: int, label: str) -> str:
    """A business with `subscriptions` due subscriptions; its id."""
    now = clock.now()
    async with db.transaction() as session:
        business, _ = await create_business(session, f"Renewals {label}", ApiKeyMode.TEST)
        plan = Product(
            id=new_id(), business_id=business.id, name="Monthly", type=ProductType.SUBSCRIPTION,
            price_minor=1500, currency="USD", billing_interval=BillingInterval.MONTH,
            taxable=False, position=0, created_at=now,
        )  # fmt: skip
        session.add(plan)
        for index in range(subscriptions):
            email = f"renew{index}-{label}@example.com"
            account = CustomerAccount(
                id=new_id(), business_id=business.id, email=email,
                email_normalized=canonical_email(email), name=f"Customer {index}", created_at=now,
            )  # fmt: skip
            token = "tok_declined" if index % 10 == 9 else "tok_visa"
            card = PaymentMethod(
                id=new_id(), business_id=business.id, account_id=account.id,
                processor_ref=f"pm_{token}_{uuid.uuid4().hex[:16]}", brand=CardBrand.VISA,
                last4="4242", exp_month=12, exp_year=2034, created_at=now,
            )  # fmt: skip
            session.add_all([account, card])
            session.add(
                Subscription(
                    id=new_id(), business_id=business.id, account_id=account.id,
                    product_id=plan.id, status=SubscriptionStatus.ACTIVE, quantity=1,
                    unit_price_minor=1500, currency="USD",
                    billing_interval=BillingInterval.MONTH,
                    current_period_start=now - timedelta(days=30, minutes=1),
                    current_period_end=now - timedelta(minutes=1), payment_method_id=card.id,
                    created_at=now,
                )
            )  # fmt: skip
    return business.id


async def charged(db: Database, business_id: str) -> tuple[int, int]:
    """(succeeded payments, failed payments) at the business."""
    async with db.read_sessions() as session:
        rows = await session.execute(
            select(Payment.status, func.count())
            .where(Payment.business_id == business_id)
            .group_by(Payment.status)
        )
        counts = {status: count for status, count in rows.all()}
    return counts.get(PaymentStatus.SUCCEEDED, 0), counts.get(PaymentStatus.FAILED, 0)


async def run(db: Database, processes: int, subscriptions: int) -> str:
    business_id = await build(db, subscriptions, f"x{processes}")
    statements = 0

    def note(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    started = time.perf_counter()
    runs = await asyncio.gather(
        *(renew_due(db, TestProcessor(db, live=False)) for _ in range(processes))
    )
    elapsed = time.perf_counter() - started
    event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    settled = sum(r.counts.get(Outcome.RENEWED, 0) + r.counts.get(Outcome.ON_HOLD, 0) for r in runs)
    succeeded, failed = await charged(db, business_id)
    paying = subscriptions - subscriptions // 10
    verdict = "ok" if (succeeded, failed) == (paying, subscriptions // 10) else "WRONG"
    return (
        f"{processes} run(s) at once{'':10} {settled / elapsed:>10.1f} "
        f"{statements / subscriptions:>11.1f} {succeeded:>10} {failed:>8}   {verdict}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=500)
    args = parser.parse_args()
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_async(url)
        db = Database(url)
        rows = [await run(db, processes, args.subscriptions) for processes in (1, 2)]
        await db.dispose()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"\nrenewals: {args.subscriptions} due subscriptions (1 in 10 declines), test "
        "processor, PostgreSQL"
    )
    print(f"{'':27} {'renewals/s':>10} {'stmts/renewal':>13} {'succeeded':>10} {'failed':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
