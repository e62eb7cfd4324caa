"""GraphQL over HTTP as the spec says, on Strawberry's ASGI view.

Strawberry answers application/json with 200 for everything and 400 for a
mutation over GET; the spec wants application/graphql-response+json when the
client accepts it, 400 (and no `data`) when the request did not parse or
validate, and 405 for a mutation over GET.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException  # Strawberry's own view raises this one
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from portal_gateway.auth.access_tokens import AccessTokens
from portal_gateway.auth.principal import Principal
from portal_gateway.auth.rate_limits import RateLimits
from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.payments.processor import PaymentProcessor
from portal_gateway.resolvers.context import Context

GRAPHQL_RESPONSE = "application/graphql-response+json"


class _SubResponse(Response):
    """The response under construction, remembering what the client accepts."""

    wants_graphql_response = False
    request_error = False


def accepts_graphql_response(accept: str) -> bool:
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media == GRAPHQL_RESPONSE and not any(
            p.replace(" ", "") in ("q=0", "q=0.0") for p in params
        ):
            return True
    return False


def is_request_error(result: ExecutionResult) -> bool:
    """Parse and validation errors: nothing executed, so there is no `data` at all."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


class PortalGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        db: Database,
        tokens: AccessTokens,
        rate_limits: RateLimits,
        processor: PaymentProcessor,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql_enabled else None)
        self.settings = settings
        self.db = db
        self.tokens = tokens
        self.rate_limits = rate_limits
        self.processor = processor

    async def get_sub_response(self, request: Request | Any) -> Response:
        sub_response = _SubResponse()
        sub_response.status_code = None  # type: ignore[assignment]
        del sub_response.headers["content-length"]
        sub_response.wants_graphql_response = accepts_graphql_response(
            request.headers.get("accept", "")
        )
        request.state.sub_response = sub_response
        return sub_response

    async def get_context(self, request: Request | Any, response: Response | Any) -> Context:
        principal: Principal = request.state.principal
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            db=self.db,
            access_tokens=self.tokens,
            rate_limits=self.rate_limits,
            processor=self.processor,
            principal=principal,
            client_address=request.state.client_address,
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            if request_adapter.method == "GET" and isinstance(
                error.__cause__, InvalidOperationTypeError
            ):
                raise HTTPException(405, "Mutations are not allowed over GET; use POST.") from error
            raise
        finally:
            await context.reader.close()

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = process_result(result)
        sub_response: _SubResponse = request.state.sub_response
        if is_request_error(result):
            sub_response.request_error = True
            if sub_response.wants_graphql_response:
                data.pop("data", None)
        return data

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(sub_response, _SubResponse) and sub_response.wants_graphql_response:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if sub_response.request_error:
                response.status_code = 400
        return response
