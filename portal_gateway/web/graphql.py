"""The GraphQL endpoint: authentication once per request, then GraphQL over HTTP as the
spec says, on Strawberry's ASGI view.

Strawberry answers application/json with 200 for everything and 400 for a
mutation over GET; the spec wants application/graphql-response+json when the
client accepts it, 400 (and no `data`) when the request did not parse or
validate, and 405 for a mutation over GET.
"""

from __future__ import annotations

import json
from typing import Any, cast

import orjson
from cross_web import HTTPException  # Strawberry's own view raises this one
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry import Schema
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from portal_gateway.auth.authenticate import SESSION_COOKIE, authenticate, bearer_credential
from portal_gateway.auth.principal import ANONYMOUS, Principal
from portal_gateway.compiled.executor import DirectContext, answer_directly
from portal_gateway.core.errors import AccessError
from portal_gateway.db import database_unavailable
from portal_gateway.schema.context import Context
from portal_gateway.schema.extensions import UNAVAILABLE, unstorable
from portal_gateway.services import audit
from portal_gateway.web import graphiql
from portal_gateway.web.state import client_address_of, resources_of

GRAPHQL_PATH = "/graphql"
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


class GraphQLEndpoint:
    """Authenticates once per request, then hands over to the GraphQL view."""

    def __init__(self, schema: Schema, *, graphiql: bool) -> None:
        self.view = PortalGraphQL(schema, graphql_ide="graphiql" if graphiql else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        resources = resources_of(request)
        try:
            principal = await self._authenticate(request)
        except AccessError as error:
            try:
                await audit.record_refusal(
                    resources.db, ANONYMOUS, "authenticate", error.code, client_address_of(request)
                )
            except Exception as failure:
                if not database_unavailable(failure):
                    raise
            response = _access_error(request, error)
            await response(scope, receive, send)
            return
        except Exception as error:
            if not database_unavailable(error):
                raise
            await unavailable(request)(scope, receive, send)
            return
        request.state.principal = principal
        await self.view(scope, receive, send)

    async def _authenticate(self, request: Request) -> Principal:
        resources = resources_of(request)
        db = resources.db
        return await authenticate(
            db.read_sessions,
            resources.access_tokens,
            resources.settings.mode,
            bearer=bearer_credential(request.headers),
            cookie=request.cookies.get(SESSION_COOKIE),
            raw_reads=None if db.is_sqlite else db.raw_reads,
        )


def _has_code(response: GraphQLHTTPResponse, code: str) -> bool:
    errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
    return any((error.get("extensions") or {}).get("code") == code for error in errors)


def _access_error(request: Request, error: AccessError) -> Response:
    return request_error(
        request,
        401,
        error.code,
        error.message,
        headers={"WWW-Authenticate": 'Bearer realm="portal"'},
    )


RETRY_AFTER_SECONDS = "5"


def unavailable(request: Request) -> Response:
    """The database cannot be reached now: 503, to retry shortly."""
    return request_error(
        request, 503, UNAVAILABLE, "The service is briefly unavailable; try again shortly.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )  # fmt: skip


# The code of a request refused before any GraphQL ran, by its HTTP status.
_CODES = {400: "BAD_REQUEST", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def request_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """A GraphQL-over-HTTP error body for a request that never reached execution: no `data`,
    one error with its code, in the media type the client accepts."""
    graphql_response = accepts_graphql_response(request.headers.get("accept", ""))
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        media_type=GRAPHQL_RESPONSE if graphql_response else "application/json",
        headers=headers,
    )


class PortalGraphQL(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry answers a refused request in plain text; the spec wants an error body."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._answer_directly(request) or await self.run(request)
        except HTTPException as error:
            code = _CODES.get(error.status_code, "BAD_REQUEST")
            response = request_error(request, error.status_code, code, error.reason)
        await response(scope, receive, send)

    async def _answer_directly(self, request: Request) -> Response | None:
        """A JSON POST of a query that ran clean through the whole view before, answered by
        the compiled read path alone (compiled.executor.answer_directly); None for anything
        else, which the whole view answers. The body read here is kept for it."""
        if request.method != "POST":
            return None
        # What the view would refuse or stream is the view's: its own content-type test, and
        # no streaming transport asked for.
        media, _ = parse_content_type(request.headers.get("content-type", ""))
        accept = request.headers.get("accept", "")
        if "application/json" not in media or "multipart" in accept or "event-stream" in accept:
            return None
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict):
            return None
        query, name = payload.get("query"), payload.get("operationName")
        variables, extensions = payload.get("variables"), payload.get("extensions")
        if not (
            isinstance(query, str)
            and (name is None or isinstance(name, str))
            and (variables is None or isinstance(variables, dict))
            and (extensions is None or isinstance(extensions, dict))
        ):
            return None
        if variables and unstorable(variables) is not None:
            return None
        context = DirectContext(request.state.principal, resources_of(request))
        schema = cast(Schema, self.schema)._schema  # graphql-core's, which Strawberry runs
        data = await answer_directly(schema, query, name, variables, context)
        if data is None:
            return None
        sub_response = await self.get_sub_response(request)
        return self.create_response({"data": data}, sub_response)

    def encode_json(self, data: object) -> bytes:
        """orjson: a dashboard of 200 KB encodes in a fraction of json.dumps's time. Like
        json.dumps it refuses what JSON cannot hold; unlike it, it writes UTF-8, not
        \\u escapes."""
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPException(400, "The request body is not UTF-8.") from None
        try:
            return json.loads(data)
        except RecursionError:
            raise HTTPException(400, "The request's JSON is nested too deeply.") from None

    def parse_json(self, data: str | bytes) -> Any:
        """A request body (or GET's variables) is a JSON object; a list is a batch, which
        Strawberry refuses as such."""
        value = super().parse_json(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, "Expected a JSON object.")
        return value

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL, opening with a query for whoever the browser's session is."""
        query = await graphiql.welcome(resources_of(request), request.state.principal)
        return graphiql.page(self.graphql_ide_html, query)

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
            resources=resources_of(request),
            principal=principal,
            client_address=client_address_of(request),
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
        # For the schema's OperationNameRequired: whether the client named the operation.
        request.state.operation_named = request_data.operation_name is not None
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
        if is_request_error(result):  # nothing ran: the spec wants no `data` at all
            sub_response.request_error = True
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
        if isinstance(response_data, dict) and _has_code(response_data, UNAVAILABLE):
            response.status_code = 503
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response
