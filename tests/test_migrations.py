"""The migration builds exactly the tables the models describe, on both engines."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from portal_gateway.core import clock
from portal_gateway.db import Database
from portal_gateway.migrations.runner import upgrade_async
from portal_gateway.migrations.tables import metadata
from portal_gateway.models import Subscription
from tests.conftest import DEFAULT_PG, _drop_pg_database, _postgres_or_skip


async def test_models_and_migration_agree(db: Database) -> None:
    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(compare)
    assert differences == []


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own, at no revision, for a test of one migration."""
    admin = os.environ.get("PORTAL_TEST_DATABASE_URL", DEFAULT_PG)
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrating.db'}"
        return
    url = await _postgres_or_skip(admin)
    yield url
    await _drop_pg_database(admin, url)


async def test_emails_become_canonical_and_look_alikes_stop_matching_without_a_merge(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_async(empty_url, "0003")
    database = Database(empty_url)
    kelvin = "\u212aate@example.com"
    rows = [  # (id, business, email as stored, key as strip().lower() made it)
        ("a1", "b1", "Kate@Bücher.de", "kate@bücher.de"),
        ("a2", "b2", kelvin, kelvin.lower()),  # the look-alike matched kate@example.com
        ("a3", "b1", "kate@xn--bcher-kva.de", "kate@xn--bcher-kva.de"),  # a1's canonical form
        ("a4", "b2", "Jo@Example.COM", "jo@example.com"),
        # a5 takes a6's old key while a6 moves on: no order may leave a5 out.
        ("a5", "b2", "äx@bücher.de", "äx@bücher.de"),
        ("a6", "b2", "Äx@xn--bcher-kva.de", "äx@xn--bcher-kva.de"),
        ("a7", "b2", "kate@example.com", "kate.old@example.com"),  # the real one, kept apart
    ]
    try:
        async with database.transaction() as session:
            for business in ("b1", "b2"):
                await session.execute(
                    text(
                        "INSERT INTO businesses (id, name, invoice_prefix, invoice_sequence,"
                        " tax_rate_bps, allow_subscription_updates, default_locale, created_at)"
                        " VALUES (:id, :id, 'INV', 0, 0, true, 'en', :now)"
                    ),
                    {"id": business, "now": clock.now()},
                )
            for position, (account, business, email, key) in enumerate(rows):
                await session.execute(text(
                    "INSERT INTO customer_accounts (id, business_id, email, email_normalized, name,"
                    " locale, created_at, updated_at) VALUES (:id, :b, :email, :key, 'N', 'en',"
                    " :at, :at)"), {"id": account, "b": business, "email": email, "key": key,
                                    "at": clock.now() + timedelta(seconds=position)})  # fmt: skip
            later = clock.now() + timedelta(hours=1)
            await session.execute(text(
                "INSERT INTO link_tokens (id, token_hash, kind, scope, email_normalized,"
                " expires_at, created_at) VALUES ('l1', 'h1', 'EMAILED_UNIFIED', 'UNIFIED',"
                " 'kate@example.com', :later, :now)"),
                {"now": clock.now(), "later": later})  # fmt: skip
            await session.execute(text(
                "INSERT INTO portal_sessions (id, scope, email_normalized, link_token_id,"
                " created_at, expires_at) VALUES ('s1', 'UNIFIED', 'kate@example.com', 'l1',"
                " :now, :later)"), {"now": clock.now(), "later": later})  # fmt: skip
        with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
            await upgrade_async(empty_url)
        async with database.read_sessions() as session:
            stored = await session.execute(
                text("SELECT id, email_normalized FROM customer_accounts")
            )
            keys = {account: key for account, key in stored.all()}
            revoked = await session.scalar(text("SELECT revoked_at FROM portal_sessions"))
            link_expires = await session.scalar(text("SELECT expires_at FROM link_tokens"))
    finally:
        await database.dispose()
    assert keys == {
        "a1": "kate@bücher.de",  # its canonical key is a3's: kept as it was, not merged
        "a2": kelvin,  # kept exactly as given: it no longer matches kate@example.com
        "a3": "kate@xn--bcher-kva.de",
        "a4": "jo@example.com",
        "a5": "äx@xn--bcher-kva.de",
        "a6": "Äx@xn--bcher-kva.de",  # refused (a capital outside ASCII): kept as given
        "a7": "kate@example.com",
    }
    # Sessions and links matched under the old rule are earned again.
    assert revoked is not None and link_expires is not None
    report = caplog.text
    assert "'a1'" in report and "'a2'" in report  # reported by id ...
    assert kelvin not in report and "Bücher" not in report  # ... never by address
    await upgrade_async(empty_url, "0003")  # and back, though the look-alike and a7 collide
    downgraded = Database(empty_url)
    try:
        async with downgraded.read_sessions() as session:
            stored = await session.execute(
                text("SELECT id, email_normalized FROM customer_accounts")
            )
            back = {account: key for account, key in stored.all()}
    finally:
        await downgraded.dispose()
    assert back["a7"] == "kate@example.com" and back["a2"] == kelvin


async def test_open_invoices_of_on_hold_dues_become_void_and_stay(empty_url: str) -> None:
    """Seeds before 0005 issued an OPEN invoice for an ON_HOLD subscription's dues; paying the
    dues now issues the one invoice, so the old one is voided, never deleted (no gap)."""
    await upgrade_async(empty_url, "0004")
    database = Database(empty_url)
    now = clock.now()
    try:
        async with database.transaction() as session:
            await session.execute(text(
                "INSERT INTO businesses (id, name, invoice_prefix, invoice_sequence, tax_rate_bps,"
                " allow_subscription_updates, default_locale, created_at)"
                " VALUES ('b', 'B', 'INV', 2, 0, true, 'en', :now)"), {"now": now})  # fmt: skip
            await session.execute(text(
                "INSERT INTO customer_accounts (id, business_id, email, email_normalized, name,"
                " locale, created_at, updated_at) VALUES ('a', 'b', 'a@example.com',"
                " 'a@example.com', 'A', 'en', :now, :now)"), {"now": now})  # fmt: skip
            await session.execute(text(
                "INSERT INTO products (id, business_id, name, type, price_minor, currency,"
                " taxable, position, created_at) VALUES ('p', 'b', 'Plan', 'SUBSCRIPTION', 1000,"
                " 'USD', false, 0, :now)"), {"now": now})  # fmt: skip
            for subscription, status in (("held", "ON_HOLD"), ("active", "ACTIVE")):
                await session.execute(text(
                    "INSERT INTO subscriptions (id, business_id, account_id, product_id, status,"
                    " quantity, unit_price_minor, currency, billing_interval,"
                    " current_period_start, current_period_end, cancel_at_period_end,"
                    " dues_minor, created_at, updated_at) VALUES (:id, 'b', 'a', 'p', :status,"
                    " 1, 1000, 'USD', 'MONTH', :now, :now, false, :dues, :now, :now)"),
                    {"id": subscription, "status": status, "now": now,
                     "dues": 1190 if status == "ON_HOLD" else 0})  # fmt: skip
                await session.execute(text(
                    "INSERT INTO invoices (id, business_id, account_id, subscription_id, number,"
                    " sequence, status, issued_at, currency, subtotal_minor, tax_minor,"
                    " total_minor, credit_applied_minor, billing_name, billing_email, created_at)"
                    " VALUES (:id, 'b', 'a', :id, :number, :sequence, 'OPEN', :now, 'USD', 1000,"
                    " 190, 1190, 0, 'A', 'a@example.com', :now)"),
                    {"id": subscription, "number": f"INV-{subscription}",
                     "sequence": 1 if subscription == "held" else 2, "now": now})  # fmt: skip
                await session.execute(text(
                    "INSERT INTO invoice_lines (id, invoice_id, business_id, position, description,"
                    " quantity, unit_amount_minor, amount_minor, tax_minor, proration,"
                    " period_start, period_end) VALUES (:id, :id, 'b', 0, 'Plan', 1, 1000, 1000,"
                    " 190, false, :now, :now)"), {"id": subscription, "now": now})  # fmt: skip
        await upgrade_async(empty_url)
        async with database.read_sessions() as session:
            rows = (await session.execute(text("SELECT id, status FROM invoices"))).all()
            invoices = {str(row[0]): str(row[1]) for row in rows}
            held = await session.get_one(Subscription, "held")
            active = await session.get_one(Subscription, "active")
    finally:
        await database.dispose()
    assert invoices == {"held": "VOID", "active": "OPEN"}
    # What the voided invoice said is owed, tax included, is what paying the dues invoices.
    assert [
        (d["description"], d["amount_minor"], d["tax_minor"]) for d in held.dues_lines or []
    ] == [("Plan", 1000, 190)]
    assert active.dues_lines is None


async def test_invoices_issued_before_0006_keep_what_was_true_then(empty_url: str) -> None:
    """Invoices from before the snapshot columns take the seller as it is at the upgrade, the
    buyer's language, and each taxed line the business's rate (the only one it has had);
    dues waiting to be invoiced get their rate too."""
    await upgrade_async(empty_url, "0005")
    database = Database(empty_url)
    now = clock.now()
    try:
        async with database.transaction() as session:
            await session.execute(text(
                "INSERT INTO businesses (id, name, invoice_prefix, invoice_sequence, tax_rate_bps,"
                " allow_subscription_updates, default_locale, support_email, created_at)"
                " VALUES ('b', 'Bäckerei', 'BAK', 1, 1900, true, 'en', 'help@b.example', :now)"),
                {"now": now})  # fmt: skip
            await session.execute(text(
                "INSERT INTO customer_accounts (id, business_id, email, email_normalized, name,"
                " locale, created_at, updated_at) VALUES ('a', 'b', 'a@example.com',"
                " 'a@example.com', 'A', 'de', :now, :now)"), {"now": now})  # fmt: skip
            await session.execute(text(
                "INSERT INTO products (id, business_id, name, type, price_minor, currency,"
                " taxable, position, created_at) VALUES ('p', 'b', 'Plan', 'SUBSCRIPTION', 1000,"
                " 'EUR', true, 0, :now)"), {"now": now})  # fmt: skip
            await session.execute(text(
                "INSERT INTO subscriptions (id, business_id, account_id, product_id, status,"
                " quantity, unit_price_minor, currency, billing_interval, current_period_start,"
                " current_period_end, cancel_at_period_end, dues_minor, dues_lines, created_at,"
                " updated_at) VALUES ('s', 'b', 'a', 'p', 'ON_HOLD', 1, 1000, 'EUR', 'MONTH', :now,"
                " :now, false, 1190, :lines, :now, :now)"),
                {"now": now, "lines": '[{"description": "Plan", "quantity": 1,'
                 ' "unit_amount_minor": 1000, "amount_minor": 1000, "tax_minor": 190,'
                 ' "proration": false, "period_start": null, "period_end": null}]'})  # fmt: skip
            await session.execute(text(
                "INSERT INTO invoices (id, business_id, account_id, number, sequence, status,"
                " issued_at, currency, subtotal_minor, tax_minor, total_minor,"
                " credit_applied_minor, billing_name, billing_email, created_at) VALUES ('i', 'b',"
                " 'a', 'BAK-1', 1, 'PAID', :now, 'EUR', 1500, 190, 1690, 0, 'A', 'a@example.com',"
                " :now)"), {"now": now})  # fmt: skip
            for line, (amount, tax) in enumerate(((1000, 190), (500, 0))):
                await session.execute(text(
                    "INSERT INTO invoice_lines (id, invoice_id, business_id, position,"
                    " description, quantity, unit_amount_minor, amount_minor, tax_minor,"
                    " proration) VALUES (:id, 'i', 'b', :position, 'Line', 1, :amount, :amount,"
                    " :tax, false)"),
                    {"id": f"l{line}", "position": line, "amount": amount, "tax": tax})  # fmt: skip
        await upgrade_async(empty_url)
        async with database.read_sessions() as session:
            invoice = (await session.execute(text(
                "SELECT seller_name, seller_support_email, locale, seller_tax_id FROM invoices"
            ))).one()  # fmt: skip
            ordered = text("SELECT tax_rate_bps FROM invoice_lines ORDER BY position")
            rates = (await session.execute(ordered)).scalars().all()
            held = await session.get_one(Subscription, "s")
    finally:
        await database.dispose()
    assert tuple(invoice) == ("Bäckerei", "help@b.example", "de", None)
    assert list(rates) == [1900, 0]
    assert [line["tax_rate_bps"] for line in held.dues_lines or []] == [1900]
