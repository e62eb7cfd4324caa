"""The `portal-gateway` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from portal_gateway.auth.api_keys import authenticate_api_key
from portal_gateway.auth.principal import MerchantPrincipal
from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.core.emails import match_key
from portal_gateway.core.errors import InvalidInputError
from portal_gateway.core.ids import decode_global_id, encode_global_id
from portal_gateway.db import Database
from portal_gateway.documents.fonts import FACES, build_fonts
from portal_gateway.jobs.outbox import dispatcher_for
from portal_gateway.migrations.runner import is_at_head, upgrade
from portal_gateway.models import CustomerAccount
from portal_gateway.resources import open_resources
from portal_gateway.services import audit, demo, links
from portal_gateway.services.businesses import create_business
from portal_gateway.services.reconciliation import RECONCILE_GRACE, reconcile_pending_payments
from portal_gateway.services.renewals import RenewalRun, renew_due


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="migrate PORTAL_DATABASE_URL to the newest schema")

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="default PORTAL_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default PORTAL_PORT (8000)")
    serve.add_argument("--workers", type=int, default=1)

    business = commands.add_parser("business", help="merchants").add_subparsers(
        dest="business", required=True
    )
    create = business.add_parser("create", help="create a business; prints its API key once")
    create.add_argument("--name", required=True)
    create.add_argument("--tax-rate-bps", type=int, default=0, help="tax in basis points")
    create.add_argument("--support-email")
    create.add_argument("--website-url")

    outbox = commands.add_parser("outbox", help="email delivery").add_subparsers(
        dest="outbox", required=True
    )
    outbox.add_parser("drain", help="deliver every due message now, then exit")

    billing = commands.add_parser("billing", help="payments").add_subparsers(
        dest="billing", required=True
    )
    reconcile = billing.add_parser(
        "reconcile", help="settle charges a crash left PENDING, by asking the processor"
    )
    reconcile.add_argument(
        "--older-than-seconds", type=float, default=RECONCILE_GRACE.total_seconds(),
        help="leave younger charges alone: they may still be in flight",
    )  # fmt: skip

    renew = billing.add_parser(
        "renew", help="charge every subscription whose period ended for its next period"
    )
    renew.add_argument(
        "--now",
        type=_timestamp,
        help="renew as if it were this moment (ISO 8601 with a zone, e.g. "
        "2027-01-01T00:00:00Z); test mode only",
    )
    invite = commands.add_parser(
        "invite", help="print a business's static link and a new one-time link for a customer"
    )
    invite.add_argument("--business", required=True, help="the business's id (global or raw)")
    invite.add_argument("--email", required=True, help="the customer's email at that business")

    schema = commands.add_parser("schema", help="the GraphQL schema").add_subparsers(
        dest="schema", required=True
    )
    export = schema.add_parser("export", help="write the served schema as SDL (schema.graphql)")
    export.add_argument("path", nargs="?", default="schema.graphql")

    fonts = commands.add_parser("fonts", help="the invoice PDF's fonts").add_subparsers(
        dest="fonts", required=True
    )
    fonts.add_parser("build", help="make the fixed-weight fonts now (else on first use)")

    demo_cmd = commands.add_parser("demo", help="demo data").add_subparsers(
        dest="demo", required=True
    )
    seed = demo_cmd.add_parser("seed", help="create the demo world (idempotent)")
    seed.add_argument("--json", action="store_true", help="print one JSON object")
    seed.add_argument(
        "--announce", action="store_true", help="also print a merchant key and a sign-in link"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(_unusable(error), file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if args.command == "db":
        upgrade(settings.database_url)
        print(f"database at head: {_redacted(settings.database_url)}")
    elif args.command == "serve":
        try:
            migrated = asyncio.run(is_at_head(settings.database_url))
        except Exception as error:  # whatever stops us reading it: say so in one line
            print(
                f"portal-gateway: cannot read the database at {_redacted(settings.database_url)}"
                f" ({type(error).__name__}: {error})",
                file=sys.stderr,
            )
            return 2
        if not migrated:
            print(
                f"portal-gateway: the database at {_redacted(settings.database_url)} is not "
                "migrated; run `portal-gateway db upgrade` first",
                file=sys.stderr,
            )
            return 2
        _serve(settings, args.host, args.port, args.workers)
    elif args.command == "business":
        try:
            print(asyncio.run(_create_business(settings, args)))
        except InvalidInputError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 2
    elif args.command == "demo":
        asyncio.run(_seed(settings, as_json=args.json, announce=args.announce))
    elif args.command == "outbox":
        print(f"delivered {asyncio.run(_drain(settings))} messages")
    elif args.command == "billing" and args.billing == "renew":
        if args.now is not None and settings.is_live:
            print("portal-gateway: --now moves the clock: test mode only", file=sys.stderr)
            return 2
        print(f"renewals: {asyncio.run(_renew(settings, args.now)).summary()}")
    elif args.command == "billing":
        settled = asyncio.run(_reconcile(settings, timedelta(seconds=args.older_than_seconds)))
        print(f"settled {settled} pending payments")
    elif args.command == "invite":
        return asyncio.run(_invite(settings, args.business, args.email))
    elif args.command == "schema":
        _export_schema(Path(args.path))
    elif args.command == "fonts":
        _build_fonts(settings)
    return 0


def _build_fonts(settings: Settings) -> None:
    """Every weight the installed font packages give, and what is missing."""
    built = build_fonts(settings.font_cache_path)
    for font in built:
        state = f"made in {font.seconds:.1f} s" if font.built else "ready"
        print(f"{font.face.name} {font.weight}: {state} ({font.path})")
    made = {font.face for font in built}
    for face in FACES:
        if face not in made:
            print(f"{face.name}: missing; pip install '{face.requirement}'")


def _unusable(error: ValidationError) -> str:
    """Every unusable setting, one a line, without a traceback."""
    lines = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in problem["loc"])
        for line in message.splitlines():
            lines.append(f"  - PORTAL_{where.upper()}: {line}" if where else f"  - {line}")
    return "portal-gateway: these settings must change before it can start:\n" + "\n".join(lines)


def _export_schema(path: Path) -> None:
    # The one command that needs the GraphQL layer; imported here so that the others
    # start without building the schema.
    from portal_gateway.schema import schema_sdl

    path.write_text(schema_sdl())
    print(f"wrote {path}")


async def _reconcile(settings: Settings, older_than: timedelta) -> int:
    async with open_resources(settings) as resources:
        return await reconcile_pending_payments(
            resources.db, resources.processor, older_than=older_than
        )


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the timestamp's zone, e.g. 2027-01-01T00:00:00Z")
    return moment.astimezone(UTC)


async def _renew(settings: Settings, now: datetime | None) -> RenewalRun:
    if now is not None:
        clock.advance(now - clock.now())  # this process only, for this run
    async with open_resources(settings) as resources:
        return await renew_due(resources.db, resources.processor)


async def _drain(settings: Settings) -> int:
    async with open_resources(settings) as resources:
        return await dispatcher_for(resources).drain()


async def _invite(settings: Settings, business: str, email: str) -> int:
    decoded = decode_global_id(business)
    business_id = decoded[1] if decoded and decoded[0] == "Business" else business
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            account = await session.scalar(
                select(CustomerAccount).where(
                    CustomerAccount.business_id == business_id,
                    CustomerAccount.email_normalized == match_key(email),
                )
            )
            if account is None:
                print(f"no customer {email} at business {business}", file=sys.stderr)
                return 1
            # The operator acts for the business, as its API key would.
            principal = MerchantPrincipal(business_id=business_id, api_key_id="cli")
            link = await links.create_dynamic_link(
                session,
                principal,
                account_id=account.id,
                base_url=settings.link_base_url,
                live=settings.is_live,
            )
            await audit.record(
                session, principal, "invite", result="ok",
                target_type="CustomerAccount", target_id=account.id,
            )  # fmt: skip
    finally:
        await db.dispose()
    static = links.static_portal_url(settings.link_base_url, business_id, live=settings.is_live)
    print(f"static link (never expires; the customer enters their email): {static}")
    print(f"one-time link for {account.email} (valid until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    print(f"  {link.url}")
    return 0


def _where_mail_goes(settings: Settings) -> str:
    if settings.email_backend == "console":
        return "printed in this terminal"
    if settings.email_backend == "file":
        return f"written to {settings.email_dir}"
    return f"sent through {settings.smtp_host}"


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    import uvicorn

    # The app (in each worker) reads its settings from the environment: --host and --port
    # go there too, so that links follow where the server listens when PORTAL_PUBLIC_URL
    # is not set.
    if host:
        os.environ["PORTAL_HOST"] = host
    if port:
        os.environ["PORTAL_PORT"] = str(port)
    uvicorn.run(
        "portal_gateway.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # Our own access log writes paths without query strings (sign-in tokens live there).
        access_log=False,
        proxy_headers=False,
        log_level=settings.log_level.lower(),
    )


async def _create_business(settings: Settings, args: argparse.Namespace) -> str:
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            business, key = await create_business(
                session,
                args.name,
                settings.mode,
                tax_rate_bps=args.tax_rate_bps,
                support_email=args.support_email,
                website_url=args.website_url,
            )
        return (
            f"business: {business.name}\n"
            f"id: {encode_global_id('Business', business.id)}\n"
            f"api key (shown once, store it now): {key}"
        )
    finally:
        await db.dispose()


async def _seed(settings: Settings, *, as_json: bool, announce: bool) -> None:
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            result = await demo.seed(session, settings.mode)
        if as_json:
            print(
                json.dumps(
                    {
                        "demoEmail": result.demo_email,
                        "businesses": [
                            {
                                "id": encode_global_id("Business", b.id),
                                "name": b.name,
                                "apiKey": b.api_key,
                            }
                            for b in result.businesses
                        ],
                    }
                )
            )
        else:
            state = "created" if result.created else "already there; new API keys issued"
            print(f"demo data {state}: {len(result.businesses)} businesses")
        if announce:
            await _announce(settings, db, result)
    finally:
        await db.dispose()


async def _announce(settings: Settings, db: Database, result: demo.SeedResult) -> None:
    first = result.businesses[0]
    async with db.transaction() as session:
        principal = await authenticate_api_key(session, first.api_key, settings.mode)
        account = await demo.demo_account(session, first.id)
        assert account is not None
        link = await links.create_dynamic_link(
            session,
            principal,
            account_id=account.id,
            base_url=settings.link_base_url,
            live=settings.is_live,
        )
    static = links.static_portal_url(settings.link_base_url, first.id, live=settings.is_live)
    out = sys.stdout
    out.write(
        "\n"
        f"GraphiQL:              {settings.public_url}/graphql\n"
        f"Merchant API key ({first.name}): {first.api_key}\n"
        f"  try: curl -s {settings.public_url}/graphql -H 'Authorization: Bearer {first.api_key}'"
        " -H 'Content-Type: application/json' -d '{\"query\":\"{currentBusiness{name}}\"}'\n"
        f"Demo customer:         {result.demo_email}\n"
        f"One-time sign-in link into {first.name}'s portal as the demo customer "
        f"(valid 24 h, opens GraphiQL signed in):\n  {link.url}\n"
        f"Unified portal (every business of the demo customer): open "
        f"{settings.public_url}/portal/login, enter {result.demo_email}; the email with the "
        f"link is {_where_mail_goes(settings)}.\n"
        f"{first.name}'s static sign-in link: {static}\n\n"
    )
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
