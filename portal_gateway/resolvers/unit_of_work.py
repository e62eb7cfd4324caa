"""One transaction per mutation, with its audit event, committed before the payload."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core.errors import DomainError
from portal_gateway.db import Database
from portal_gateway.resolvers.context import Context
from portal_gateway.services import audit

R = TypeVar("R")
log = logging.getLogger(__name__)


async def in_unit_of_work(
    db: Database,
    principal: Principal,
    client_address: str | None,
    action: str,
    work: Callable[[AsyncSession], Awaitable[R]],
    *,
    target_type: str | None = None,
    target_id: str | None = None,
) -> R | DomainError:
    """Run `work` in a transaction and audit it. A domain error rolls back to a
    savepoint, so an error result changes nothing but the audit trail."""
    async with db.transaction() as session:
        outcome: R | DomainError
        try:
            async with session.begin_nested():
                outcome = await work(session)
            # A domain error returned (not raised) is an outcome to keep: a declined charge
            # records its FAILED payment.
            result = outcome.code if isinstance(outcome, DomainError) else "ok"
        except DomainError as error:
            outcome, result = error, error.code
        await audit.record(
            session,
            principal,
            action,
            result=result,
            target_type=target_type,
            target_id=target_id,
            client_address=client_address,
        )
    log.info("mutation %s: %s", action, result)
    return outcome


async def run_mutation(
    ctx: Context,
    action: str,
    work: Callable[[AsyncSession], Awaitable[R]],
    *,
    target_type: str | None = None,
    target_id: str | None = None,
) -> R | DomainError:
    """A mutation field's unit of work; afterwards the request's loaders read afresh."""
    outcome = await in_unit_of_work(
        ctx.db,
        ctx.principal,
        ctx.client_address,
        action,
        work,
        target_type=target_type,
        target_id=target_id,
    )
    await ctx.loaders.clear()
    return outcome
