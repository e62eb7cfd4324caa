"""graphql-core's executor, with root fields that compile answered by their plan.

Strawberry parses, validates, runs its extensions and builds the response as ever; only a
root query field whose selection compiles skips the resolvers: its plan (cached per
document, root field, principal kind and the values of the variables its directives read)
runs its statements on one connection and returns the field's finished value. Every other
root field, and one whose run falls back, is executed by graphql-core and Strawberry, and
the parts land in the response in the document's field order, as graphql-core puts them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Hashable
from typing import Any

from graphql import (
    DirectiveNode,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    OperationDefinitionNode,
    VariableNode,
    visit,
)
from graphql.execution.values import get_argument_values
from graphql.language import Visitor
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

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
# The variables the directives of an operation (and of every fragment) read, by document
# text and operation name.
_directive_variables: OrderedDict[tuple[str, str | None], tuple[str, ...]] = OrderedDict()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    if len(cache) > PLAN_CACHE_SIZE:
        cache.popitem(last=False)


class CompiledReadsExecutor(StrawberryGraphQLCoreExecutionContext):
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
                return self._run(
                    plan, parent_type, source, field_details_list, path, position_context
                )
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
            except Exception as error:
                assert field_def is not None
                self.handle_field_error(error, field_def.type, field_details_list, path)
                return None
            result = super(CompiledReadsExecutor, self).execute_field(
                parent_type, source, field_details_list, path, position_context
            )
            return await result if self.is_awaitable(result) else result

        return answer()
