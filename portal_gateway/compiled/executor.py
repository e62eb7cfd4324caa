"""graphql-core's executor, with root fields that compile answered by their plan.

Strawberry parses, validates, runs its extensions and builds the response as ever; only a
root query field whose selection compiles skips the resolvers: its plan (cached per
document, root field, principal kind and the values of the variables its directives read)
runs its statements on one connection and returns the field's finished value. Every other
root field, and one whose run falls back, is executed by graphql-core and Strawberry, and
the parts land in the response in the document's field order, as graphql-core puts them.

A query that has run that way once, every root field answered by a plan and no error, is
one Strawberry has parsed and validated (with every rule and extension of the schema): the
next request with the same text and operation name is answered directly (`answer_directly`),
by graphql-core's executor over the same plans, without Strawberry's view and extensions.
Whatever is not as clean then (a plan that falls back, an error, variables that do not
coerce) is not answered there but by the whole path again, so that every error is the
reference's.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    visit,
)
from graphql.execution.values import get_argument_values
from graphql.language import Visitor
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from portal_gateway.auth.principal import Principal
from portal_gateway.compiled.plan import Compiler, Fallback, FieldDetailsList, NotCompilable, Run
from portal_gateway.compiled.roots import (
    CurrentBusinessPlan,
    NodesPlan,
    NullPlan,
    ViewerPlan,
)
from portal_gateway.compiled.statements import MERCHANT, STAND_INS, kind_of, scope_values
from portal_gateway.resources import Resources

log = logging.getLogger(__name__)

PLAN_CACHE_SIZE = 512


def _resources(context: Any) -> Resources | None:
    """The process's resources where reads compile: PostgreSQL, unless turned off."""
    resources: Resources | None = getattr(context, "resources", None)
    if resources is None or resources.db.is_sqlite or not resources.settings.compiled_reads:
        return None
    return resources


class _Directives(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.depth = 0

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.depth += 1

    def leave_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.depth -= 1

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if self.depth:
            self.names.add(node.name.value)


_NOT_COMPILABLE = object()


def _compiled(*_: Any) -> Any:
    raise AssertionError("a plan compiles all it needs when it is made")


_plans: OrderedDict[Hashable, Any] = OrderedDict()
# Queries every root field of which a plan answered without an error, by text, operation
# name as a client may send it and principal kind: parsed and validated, ready to answer
# directly.
_clean: OrderedDict[tuple[str, str | None, str], DocumentNode] = OrderedDict()
# The variables the directives of an operation (and of every fragment) read, by document
# text and operation name.
_directive_variables: OrderedDict[tuple[str, str | None], tuple[str, ...]] = OrderedDict()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    if len(cache) > PLAN_CACHE_SIZE:
        cache.popitem(last=False)


class CompiledReadsExecutor(StrawberryGraphQLCoreExecutionContext):
    # Answering directly: a root field no plan answers ends the attempt instead of running
    # Strawberry's resolver.
    direct = False
    # Root fields answered by a plan, and otherwise (resolvers, fallbacks).
    planned = 0
    unplanned = 0

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        if parent_type is self.schema.query_type:
            plan = self._plan(field_details_list)
            if plan is not None:
                self.planned += 1
                return self._run(
                    plan, parent_type, source, field_details_list, path, position_context
                )
            self.unplanned += 1
            if self.direct:
                return None
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _directive_values(self) -> tuple[Any, ...]:
        operation = self.operation
        text = operation.loc.source.body if operation.loc else ""
        key = (text, operation.name.value if operation.name else None)
        names = _directive_variables.get(key)
        if names is None:
            visitor = _Directives()
            visit(operation, visitor)
            for fragment in self.fragment_definitions.values():
                visit(fragment, visitor)
            names = tuple(sorted(visitor.names))
            _remember(_directive_variables, key, names)
        coerced = self.variable_values.coerced
        return tuple(repr(coerced.get(name, Undefined)) for name in names)

    def _plan(self, field_details_list: FieldDetailsList) -> Any:
        context = self.context_value
        if _resources(context) is None:
            return None
        kind = kind_of(context.principal)
        if kind is None:
            return None
        operation: OperationDefinitionNode = self.operation
        node: FieldNode = field_details_list[0].node
        text = operation.loc.source.body if operation.loc else None
        if text is None:
            return None
        key = (
            text,
            operation.name.value if operation.name else None,
            node.alias.value if node.alias else node.name.value,
            kind,
            self._directive_values(),
        )
        plan = _plans.get(key)
        if plan is None:
            try:
                plan = self._compile(field_details_list, kind)
            except NotCompilable as reason:
                log.debug("not compiled: %s", reason)
                plan = _NOT_COMPILABLE
            _remember(_plans, key, plan)
        else:
            _plans.move_to_end(key)
        return None if plan is _NOT_COMPILABLE else plan

    def _compile(self, field_details_list: FieldDetailsList, kind: str) -> Any:
        name = field_details_list[0].node.name.value
        compiler = Compiler(
            collect=lambda type_, details: (
                self.collect_subfields(type_, list(details)).grouped_field_set
            ),
            schema_types=self.schema.type_map,
            stand_in=STAND_INS[kind],
        )
        plan = self._plan_of(name, kind, compiler, field_details_list)
        # The plan outlives this request: it keeps nothing of it (its context, its
        # credentials), so the collector that reads this request's variables goes.
        compiler.collect = _compiled
        return plan

    def _plan_of(
        self, name: str, kind: str, compiler: Compiler, field_details_list: FieldDetailsList
    ) -> Any:
        query_type = self.schema.query_type
        assert query_type is not None
        if name == "viewer" and kind != MERCHANT:
            return ViewerPlan(compiler, field_details_list)
        if name in ("node", "nodes"):
            field_def = query_type.fields[name]
            return NodesPlan(compiler, field_details_list, field_def, many=name == "nodes")
        if name == "currentBusiness" and kind == MERCHANT:
            return CurrentBusinessPlan(compiler, field_details_list)
        if name in ("viewer", "currentBusiness"):
            return NullPlan(compiler)
        raise NotCompilable(f"Query.{name} for {kind}")

    def _arguments(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(field_def, node, self.variable_values)

    def _run(
        self,
        plan: ViewerPlan | NodesPlan | CurrentBusinessPlan | NullPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Awaitable[Any]:
        context = self.context_value
        resources = _resources(context)
        assert resources is not None
        principal = context.principal
        run = Run(
            principal,
            scope_values(principal),
            settings=resources.settings,
            document_links=resources.document_links,
            arguments=self._arguments,
        )
        field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)

        async def answer() -> Any:
            try:
                plan.compiler.bind(run)
                if isinstance(plan, NullPlan):
                    return None
                async with resources.db.raw_reads() as connection:
                    return await plan.run(connection, run)
            except Fallback as reason:
                log.debug("compiled read fell back: %s", reason)
                self.unplanned += 1
                if self.direct:
                    return None
            except Exception as error:
                assert field_def is not None
                self.handle_field_error(error, field_def.type, field_details_list, path)
                return None
            result = super(CompiledReadsExecutor, self).execute_field(
                parent_type, source, field_details_list, path, position_context
            )
            return await result if self.is_awaitable(result) else result

        return answer()

    def build_response(self, data: dict[str, Any] | None) -> Any:
        result = super().build_response(data)
        if (
            not self.direct
            and self.planned
            and not self.unplanned
            and isinstance(result, ExecutionResult)
            and not result.errors
            and self.operation.operation is OperationType.QUERY
        ):
            self._remember_clean()
        return result

    def _remember_clean(self) -> None:
        """Keyed as the client sent it: with the operation's name, or without one (which the
        schema allows only for a document of one operation; the HTTP view notes which)."""
        operation = self.operation
        kind = kind_of(self.context_value.principal)
        if operation.loc is None or kind is None:
            return
        request = getattr(self.context_value, "request", None)
        named = getattr(request.state, "operation_named", True) if request else True
        name = operation.name.value if operation.name and named else None
        # What executing it needs: the operation and its fragments (the client picked the
        # operation by `name`, so no other one matters).
        document = DocumentNode(definitions=(operation, *self.fragment_definitions.values()))
        _remember(_clean, (operation.loc.source.body, name, kind), document)


@dataclass(frozen=True)
class DirectContext:
    """What the plans read of a request answered directly."""

    principal: Principal
    resources: Resources


async def answer_directly(
    schema: GraphQLSchema,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    context: DirectContext,
) -> dict[str, Any] | None:
    """The `data` of a query that ran clean through the whole path before, answered by its
    plans alone; None when it cannot be, for the whole path to answer (and to report)."""
    if _resources(context) is None:
        return None
    kind = kind_of(context.principal)
    document = _clean.get((query, operation_name, kind)) if kind else None
    if document is None:
        return None
    executor = CompiledReadsExecutor.build(
        schema, document, None, context, variables, operation_name
    )
    if isinstance(executor, list):  # variables that do not coerce: the whole path says so
        return None
    assert isinstance(executor, CompiledReadsExecutor)
    executor.direct = True
    result = executor.execute_operation()
    if executor.is_awaitable(result):
        result = await result
    if not isinstance(result, ExecutionResult) or result.errors or executor.unplanned:
        return None
    return result.data
