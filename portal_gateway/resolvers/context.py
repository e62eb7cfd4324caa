"""What every resolver of one request shares: built in the app's `get_context`."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.principal import Principal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.loaders import Loaders
from portal_gateway.loaders.reader import Reader
from portal_gateway.payments.processor import PaymentProcessor


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    db: Database
    access_tokens: AccessTokens
    rate_limits: RateLimits
    processor: PaymentProcessor
    principal: Principal
    client_address: str | None
    reader: Reader = field(init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.reader = Reader(self.db.read_sessions)
        self.loaders = Loaders(self.reader, self.principal)

    @property
    def customer_id_secret(self) -> bytes:
        return self.settings.secret_key.encode()
