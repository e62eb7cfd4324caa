"""The GraphQL schema: `portal_gateway.schema.schema` (introspection on) and `build_schema`."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

# Importing the areas registers their node types and their enums, before the schema is built.
from portal_gateway.compiled.executor import CompiledReadsExecutor
from portal_gateway.schema import enums  # noqa: F401
from portal_gateway.schema.accounts import types as _accounts  # noqa: F401
from portal_gateway.schema.businesses import types as _businesses  # noqa: F401
from portal_gateway.schema.catalogue import types as _catalogue  # noqa: F401
from portal_gateway.schema.extensions import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    ErrorCodes,
    MaxDirectivesRule,
    OperationNameRequired,
    ParsedDocuments,
    StorableText,
)
from portal_gateway.schema.invoices import types as _invoices  # noqa: F401
from portal_gateway.schema.mutation import Mutation
from portal_gateway.schema.nodes import node_types
from portal_gateway.schema.payments import types as _payments  # noqa: F401
from portal_gateway.schema.purchases import types as _purchases  # noqa: F401
from portal_gateway.schema.query import Query
from portal_gateway.schema.subscriptions import types as _subscriptions  # noqa: F401

log = logging.getLogger(__name__)


class PortalSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error, a client's typo included, at ERROR. The ErrorCodes
        extension logs the unexpected ones; the rest are the client's to read."""
        for error in errors:
            log.debug("graphql error: %s", error.message)


def build_schema(*, introspection: bool = True, field_suggestions: bool = True) -> PortalSchema:
    # The limiters' rules are classes that each limiter makes anew when built. Made once here,
    # every request validates with the same rules, so the validation cache (keyed by the
    # document and the rules) hits; built per request, it never did (issue 13).
    rules = (
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
        MaxDirectivesRule,
    )
    extensions: list[Any] = [
        ErrorCodes,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(list(rules)),
        ParsedDocuments,
        ValidationCache,
        OperationNameRequired,
        StorableText,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return PortalSchema(
        query=Query,
        mutation=Mutation,
        types=node_types(),  # a node type reachable only through `node` must be listed
        extensions=extensions,
        # Root query fields whose selection compiles are answered by their plan on
        # PostgreSQL (portal_gateway.compiled); the rest by Strawberry's resolvers.
        execution_context_class=CompiledReadsExecutor,
        config=StrawberryConfig(disable_field_suggestions=not field_suggestions),
    )


schema = build_schema()


def schema_sdl(served: strawberry.Schema = schema) -> str:
    """The SDL as committed in schema.graphql: with an explicit schema block, so that
    the type named Subscription is never read as the subscription root."""
    return "schema {\n  query: Query\n  mutation: Mutation\n}\n\n" + served.as_str() + "\n"
