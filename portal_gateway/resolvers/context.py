"""What every resolver of one request shares: built by the GraphQL view's `get_context`."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from portal_gateway.auth.principal import Principal
from portal_gateway.config import Settings
from portal_gateway.loaders import Loaders
from portal_gateway.loaders.reader import Reader
from portal_gateway.resources import Resources
from portal_gateway.services.unit_of_work import Actor


@dataclass
class Context:
    request: Request
    response: Response
    resources: Resources
    principal: Principal
    client_address: str | None
    reader: Reader = field(init=False)
    _loaders: Loaders | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.reader = Reader(self.resources.db.read_sessions)

    @property
    def loaders(self) -> Loaders:
        """Made on first use: a request the compiled read path answers needs none."""
        if self._loaders is None:
            self._loaders = Loaders(self.reader, self.principal)
        return self._loaders

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def actor(self) -> Actor:
        """The request's principal and address, as a change's audit event records them."""
        return Actor(self.principal, self.client_address)

    def act_as(self, principal: Principal) -> None:
        """The rest of this request runs as `principal` (signIn's payload reads as the new
        session), with loaders of its own scope."""
        self.principal = principal
        self._loaders = Loaders(self.reader, principal)
