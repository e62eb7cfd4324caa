"""The small page's floor over HTTP: one hand-written SQL statement behind bare Starlette.

    FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db \\
        .venv/bin/python bench/floor_server.py --port 8001 [--plan-cache-mode auto]

bench/dashboard.py runs it as its own uvicorn process (one worker, as `serve` runs the app):
GET /page?account=<customer account id> (a BUSINESS session's scope) or
?email=<normalized email> (a UNIFIED session's) answers the data of bench/small_page.graphql
(the newest 10 invoices with their business, and the total count) as the JSON text that
PostgreSQL built, with an asyncpg pool and nothing else: no GraphQL, no sign-in check, no
middleware. What any Python HTTP stack on this database costs at the least.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

SMALL_PAGE_SQL_TEMPLATE = """
WITH total AS (SELECT count(*) AS n FROM invoices WHERE account_id IN {accounts}),
page AS (
  SELECT i.id, i.number, i.status, i.issued_at, i.total_minor, i.currency, i.created_at,
         json_build_object('id', b.id, 'name', b.name) AS business
  FROM invoices i JOIN businesses b ON b.id = i.business_id
  WHERE i.account_id IN {accounts} ORDER BY i.created_at DESC, i.id DESC LIMIT 10)
SELECT json_build_object(
  'totalCount', total.n,
  'edges', (SELECT json_agg(page ORDER BY page.created_at DESC, page.id DESC) FROM page),
  'pageInfo', json_build_object(
    'hasNextPage', total.n > 10,
    'endCursor', (SELECT created_at || '|' || id FROM page ORDER BY created_at, id LIMIT 1))
)::text
FROM total
"""
# Scoped as the bench's dashboard floor is: one account by id, or every account of the email.
SMALL_PAGE_BUSINESS_SQL = SMALL_PAGE_SQL_TEMPLATE.format(accounts="($1)")
SMALL_PAGE_UNIFIED_SQL = SMALL_PAGE_SQL_TEMPLATE.format(
    accounts="(SELECT id FROM customer_accounts WHERE email_normalized = $1)"
)
POOL_SIZE = 10  # as the app's (PORTAL_DB_POOL_SIZE)


def small_page_statement(account: str | None, email: str | None) -> tuple[str, str]:
    """The statement and its one argument for an account id or a normalized email."""
    if account:
        return SMALL_PAGE_BUSINESS_SQL, account
    if email:
        return SMALL_PAGE_UNIFIED_SQL, email
    raise ValueError("account or email")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    mode = os.environ.get("FLOOR_PLAN_CACHE_MODE")
    pool = await asyncpg.create_pool(
        os.environ["FLOOR_DATABASE_URL"],
        min_size=1,
        max_size=POOL_SIZE,
        server_settings={"plan_cache_mode": mode} if mode else None,
    )
    try:
        yield {"pool": pool}
    finally:
        await pool.close()


async def page(request: Request) -> Response:
    try:
        sql, argument = small_page_statement(
            request.query_params.get("account"), request.query_params.get("email")
        )
    except ValueError:
        return PlainTextResponse("account or email", status_code=400)
    async with request.state.pool.acquire() as connection:
        text = await connection.fetchval(sql, argument)
    return Response(text, media_type="application/json")


async def healthz(_: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[Route("/page", page, methods=["GET"]), Route("/healthz", healthz, methods=["GET"])],
    lifespan=lifespan,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--plan-cache-mode", choices=["auto", "force_custom_plan", "force_generic_plan"]
    )
    args = parser.parse_args()
    if args.plan_cache_mode:
        os.environ["FLOOR_PLAN_CACHE_MODE"] = args.plan_cache_mode
    # As `serve` runs the app: one worker, default loop and HTTP parser, no access log.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
