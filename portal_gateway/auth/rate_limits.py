"""Rate limits for the public sign-in endpoints and card changes, with the `limits` library.

Counters live in memory by default, and in Redis (through redis-py) when
PORTAL_REDIS_URL is set, so that every server process shares one budget.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool

from portal_gateway.config import Settings


@dataclass(frozen=True)
class Limited:
    retry_after_seconds: int


class RateLimits:
    def __init__(self, settings: Settings, *, namespace: str = "portal") -> None:
        self.storage: Storage
        # Ours to close: `limits` has no close of its own.
        self._pool: ConnectionPool | None = None
        if settings.redis_url:
            self._pool = ConnectionPool.from_url(settings.redis_url)
            storage = storage_from_string(
                "async+" + settings.redis_url,
                implementation="redispy",
                connection_pool=self._pool,  # type: ignore[arg-type]  # passed to redis-py as is
            )
            assert isinstance(storage, Storage)
            self.storage = storage
        else:
            self.storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace
        self.rules: dict[str, RateLimitItem] = {
            "sign_in_link:email": parse(settings.sign_in_link_limit_per_email),
            "sign_in_link:client": parse(settings.sign_in_link_limit_per_client),
            "sign_in:client": parse(settings.sign_in_limit_per_client),
            "card:session": parse(settings.card_limit_per_session),
            "card:account": parse(settings.card_limit_per_account),
        }

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def hit(self, rule: str, key: str) -> Limited | None:
        """Count one attempt; Limited (with when to retry) once the budget is spent."""
        item = self.rules[rule]
        if await self.limiter.hit(item, self.namespace, rule, key):
            return None
        stats = await self.limiter.get_window_stats(item, self.namespace, rule, key)
        return Limited(max(1, math.ceil(stats.reset_time - time.time())))

    async def hit_all(self, *checks: tuple[str, str | None]) -> Limited | None:
        """Each (rule, key) in turn; the first that is spent answers."""
        for rule, key in checks:
            if key is None:
                continue
            limited = await self.hit(rule, key)
            if limited is not None:
                return limited
        return None
