"""One transaction per change, with its audit event: the unit of work of every flow."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from portal_gateway.auth.principal import Principal
from portal_gateway.core.errors import DomainError
from portal_gateway.db import Database
from portal_gateway.services import audit

R = TypeVar("R")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who changes something, and from which address: what the audit trail records."""

    principal: Principal
    client_address: str | None = None


async def in_unit_of_work(
    db: Database,
    actor: Actor,
    action: str,
    work: Callable[[AsyncSession], Awaitable[R]],
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    recorded_as: Callable[[R], tuple[Principal, str]] | None = None,
) -> R:
    """Run `work` in one transaction with its audit event, commit, and return its result.

    A domain error that `work` raises rolls back to a savepoint, so it changes nothing but
    the audit trail, and is raised again once that is committed. A domain error that `work`
    returns is an outcome to keep (a declined charge records its FAILED payment): it is
    committed and returned. `recorded_as`: for a change that makes its own principal (signIn),
    the principal and the target to record, from the result.
    """
    raised: DomainError | None = None
    principal = actor.principal
    async with db.transaction() as session:
        try:
            async with session.begin_nested():
                outcome = await work(session)
            result = outcome.code if isinstance(outcome, DomainError) else "ok"
            if recorded_as is not None and result == "ok":
                principal, target_id = recorded_as(outcome)
        except DomainError as error:
            raised, result = error, error.code
        await audit.record(
            session,
            principal,
            action,
            result=result,
            target_type=target_type,
            target_id=target_id or None,  # NO_SUCH_ID: the input named no row
            client_address=actor.client_address,
        )
    log.info("%s: %s", action, result)
    if raised is not None:
        raise raised
    return outcome
