"""Error codes on every top-level error, masking of the unexpected, and query limits."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    StringValueNode,
    ValidationRule,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from portal_gateway.core.errors import AccessError, DomainError
from portal_gateway.db import database_unavailable

log = logging.getLogger("portal_gateway.errors")

# The code of an error that is no one's fault and passes (the database cannot be reached):
# the HTTP view answers 503 with Retry-After.
UNAVAILABLE = "SERVICE_UNAVAILABLE"

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_DIRECTIVES = 10

# The messages of Strawberry's own limiters (QueryDepthLimiter, MaxAliasesLimiter,
# MaxTokensLimiter), which report plain GraphQLErrors without a code.
_TOO_COMPLEX = (
    "exceeds maximum operation depth",
    "aliases found. Allowed:",
    "Document contains more than",
    "directives found. Allowed:",
)


class MaxDirectivesRule(ValidationRule):
    """Graphql-core has no directive limit; a query with thousands of them is cheap to send."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        self.count += 1
        if self.count == MAX_DIRECTIVES + 1:
            self.report_error(
                GraphQLError(
                    f"More than {MAX_DIRECTIVES} directives found. Allowed: {MAX_DIRECTIVES}"
                )
            )


def _code_for(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, AccessError):
        return original.code
    if original is not None and database_unavailable(original):
        return UNAVAILABLE
    if original is not None and not isinstance(original, GraphQLError | DomainError):
        return None  # unexpected: masked
    if any(marker in error.message for marker in _TOO_COMPLEX):
        return "QUERY_TOO_COMPLEX"
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


class OperationNameRequired(SchemaExtension):
    """A document of several operations runs the one named by operationName; without it, it is
    an error (the GraphQL spec), not the first operation run. The HTTP view notes whether the
    client named one in request.state."""

    def on_validate(self) -> Iterator[None]:
        # Before the yield: Strawberry returns the validation errors before the hooks exit.
        context = self.execution_context
        document = context.graphql_document
        named = getattr(context.context.request.state, "operation_named", True)
        if not named and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(
                    "This document has several operations: name the one to run in operationName."
                )
                context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


# Deeper variables than any input of this schema could use are refused, not walked.
MAX_VARIABLE_DEPTH = 32


class StorableText(SchemaExtension):
    """Text no database stores: a NUL (PostgreSQL refuses it, SQLite keeps it) or a lone
    surrogate (not UTF-8 at all). In a variable or a string literal it is the request's
    error before anything runs, on every database alike; so are variables nested deeper
    than any input of this schema."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        problem = unstorable(context.variables)
        if (
            problem is None
            and context.query
            and "\\u" in context.query
            and context.graphql_document
        ):
            literals = [node.value for node in _string_literals(context.graphql_document)]
            problem = unstorable(literals)
        if problem is not None:
            error = GraphQLError(problem, extensions={"code": "BAD_USER_INPUT"})
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


def unstorable(value: object) -> str | None:
    """What is wrong with the text in `value`, walked without recursion; None if nothing."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_VARIABLE_DEPTH:
            return f"Variables are nested deeper than {MAX_VARIABLE_DEPTH} levels."
        if isinstance(item, str):
            if "\x00" in item:
                return "Text may not contain a NUL character."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Text must be valid Unicode (it holds a lone surrogate)."
        elif isinstance(item, dict):
            pending.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            pending.extend((part, depth + 1) for part in item)
    return None


def _string_literals(document: DocumentNode) -> list[StringValueNode]:
    found: list[StringValueNode] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.append(node)

    visit(document, Collect())
    return found


class ErrorCodes(SchemaExtension):
    """Give every error `extensions.code`; replace unexpected ones by INTERNAL_SERVER_ERROR.

    Strawberry's MaskErrors would mask parse and validation errors too, so a
    client that misspells a field learns nothing: mask only what is ours to hide.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._process(error) for error in result.errors]

    @staticmethod
    def _process(error: GraphQLError) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error
        code = _code_for(error)
        if code == UNAVAILABLE:
            log.warning("database unavailable at %s", error.path, exc_info=error.original_error)
            return GraphQLError(
                "The service is briefly unavailable; try again shortly.",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": UNAVAILABLE},
            )
        if code is None:
            log.error("unexpected error at %s", error.path, exc_info=error.original_error)
            return GraphQLError(
                "Internal server error.",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR"},
            )
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions={**(error.extensions or {}), "code": code},
        )


PARSED_DOCUMENTS = 256
_parsed: OrderedDict[tuple[str, str], DocumentNode] = OrderedDict()


class ParsedDocuments(SchemaExtension):
    """Each query text parsed once: a portal sends the same few documents again and again.
    Only a parse that succeeded is kept (Strawberry's ParserCache keeps errors too, and
    re-raises them where the error would miss its code); the same document object each
    time also lets the compiled read path find its plan at once."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = (context.query or "", repr(sorted(context.parse_options.items())))
        found = _parsed.get(key)
        if found is not None:
            _parsed.move_to_end(key)
            context.graphql_document = found
        yield
        if found is None and context.query and context.graphql_document is not None:
            _parsed[key] = context.graphql_document
            if len(_parsed) > PARSED_DOCUMENTS:
                _parsed.popitem(last=False)
