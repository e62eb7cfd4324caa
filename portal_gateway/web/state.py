"""What a request carries besides itself, typed: the process's resources (from the
lifespan state) and the caller's address (from ClientAddressMiddleware)."""

from __future__ import annotations

from starlette.requests import Request

from portal_gateway.resources import Resources


def resources_of(request: Request) -> Resources:
    resources: Resources = request.state.resources
    return resources


def client_address_of(request: Request) -> str | None:
    address: str | None = request.state.client_address
    return address
