"""A selection compiled into SQL columns and the functions that assemble its answer.

An object's fields become columns of its statement: its own, those of the nodes it points
at (LEFT JOINs, each with its own scope condition) and arrays of row values for the lists
under it (correlated `ARRAY(SELECT ROW(...))`). An assembler turns one row into the
object's part of the response, in the document's field order, with the response names the
document chose. Nothing here depends on the data: a plan compiled once serves every
request of its document and principal kind.
"""

from __future__ import annotations

import enum
import logging
from binascii import b2a_base64
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Enum,
    Integer,
    String,
    and_,
    false,
    func,
    or_,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import QueryableAttribute, aliased, outerjoin

from portal_gateway.auth.principal import MerchantPrincipal, Principal
from portal_gateway.auth.scope import scope_condition
from portal_gateway.compiled import fields as spec
from portal_gateway.compiled.sql_json import JsonCompiler, NotJson, cursor_sql, spliced
from portal_gateway.compiled.statements import parameter
from portal_gateway.config import Settings
from portal_gateway.core import clock
from portal_gateway.core.addresses import ADDRESS_PARTS, address_of
from portal_gateway.core.emails import match_key
from portal_gateway.core.errors import RequestInputError
from portal_gateway.core.ids import encode_cursor, encode_global_id
from portal_gateway.core.money import Money
from portal_gateway.loaders.pagination import PageRequest, newest_first, older_than
from portal_gateway.models import Business, CreditBalance, CustomerAccount, Product, Subscription
from portal_gateway.services.links import static_portal_url
from portal_gateway.services.plan_change_rules import plan_change_options

FieldDetailsList = Sequence[FieldDetails]

log = logging.getLogger(__name__)


class NotCompilable(Exception):
    """This selection reaches something the compiler does not know: Strawberry answers it."""


class Fallback(Exception):
    """At run time: this root field is answered by Strawberry after all (an argument it
    refuses, a required relation out of scope), so that its error is the reference's."""


def page_request(arguments: Mapping[str, Any]) -> PageRequest:
    """A connection's first and after, checked as the reference path checks them; what it
    would refuse is its to answer."""
    try:
        return PageRequest.parse(arguments.get("first"), arguments.get("after"))
    except RequestInputError as error:
        raise Fallback(str(error)) from error


class Run:
    """What one request brings to a plan: its principal, its bound values, its resources."""

    __slots__ = (
        "arguments", "document_links", "memo", "now", "principal", "secret", "settings", "values",
    )  # fmt: skip

    def __init__(
        self,
        principal: Principal,
        values: dict[str, Any],
        *,
        settings: Settings,
        document_links: Any,
        arguments: Arguments,
    ) -> None:
        self.principal = principal
        self.values = values
        self.settings = settings
        self.document_links = document_links
        self.arguments = arguments
        self.secret = settings.secret_key.get_secret_value().encode()
        self.now = clock.now()
        # Answers of pure rules for this request, by their inputs: a page of subscriptions of
        # a few plans asks the plan-change rule the same few questions.
        self.memo: dict[Any, Any] = {}


Arguments = Callable[[GraphQLField, FieldNode], dict[str, Any]]
Row = Sequence[Any]
Getter = Callable[[Row, Run], Any]
Collect = Callable[[GraphQLObjectType, FieldDetailsList], Mapping[str, FieldDetailsList]]


@lru_cache(maxsize=4096)
def amount_text(minor: int, currency: str) -> str:
    """Money's amount as the schema serializes it (core.money's exponent); a page repeats a
    few prices many times over."""
    return str(Money(minor, currency).to_decimal())


@lru_cache(maxsize=8192)
def computed_value(
    build: Callable[[Sequence[Any]], Any], rule: Callable[[Any], Any], inputs: tuple[Any, ...]
) -> Any:
    """A computed field's value: `rule` (a pure function of a row's facts) on the facts
    `build` makes of `inputs`. A page asks it about a few plans, prices and dates over and
    over."""
    return rule(build(inputs))


def _identity(value: Any) -> Any:
    return value


def _enum_name(value: Any) -> Any:
    return value.name if isinstance(value, enum.Enum) else value


def _is_enum(type_: GraphQLOutputType) -> bool:
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(named, GraphQLEnumType)


def leaf_serializer(type_: GraphQLOutputType) -> Callable[[Any], Any]:
    """What graphql-core's leaf completion does to a stored value, without its checks:
    columns already hold values of the field's type (enums by name)."""
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLEnumType):
        return _enum_name
    if not isinstance(named, GraphQLScalarType):
        raise NotCompilable(f"{named} is not a leaf")
    if named.name in ("String", "ID", "Boolean", "Int"):
        return _identity
    if named.name == "DateTime":
        return datetime.isoformat  # the method itself: no frame of ours per value
    if named.name == "Decimal":
        return str
    return named.serialize


def _column_key(expr: Any) -> tuple[int, str] | None:
    """Which entity's which attribute `expr` is, when it is one (None for expressions)."""
    if isinstance(expr, QueryableAttribute):
        return id(expr.parent), expr.key
    return None


class Columns:
    """The select list of one statement (or of one ROW in an array), and its FROM."""

    def __init__(self, entity: Any) -> None:
        self.entity = entity
        self.exprs: list[Any] = []
        self.seen: dict[tuple[int, str], int] = {}
        self.from_: Any = entity

    def add(self, expr: Any) -> int:
        """The index of `expr` in the row: a column asked for twice (an id, a currency) is
        selected once."""
        key = _column_key(expr)
        if key is not None:
            found = self.seen.get(key)
            if found is not None:
                return found
        self.exprs.append(expr)
        index = len(self.exprs) - 1
        if key is not None:
            self.seen[key] = index
        return index

    def outer_join(self, target: Any, on: ColumnElement[bool]) -> None:
        self.from_ = outerjoin(self.from_, target, on)

    def snapshot(self) -> tuple[Any, int, dict[tuple[int, str], int]]:
        return self.from_, len(self.exprs), dict(self.seen)

    def restore(self, snapshot: tuple[Any, int, dict[tuple[int, str], int]]) -> None:
        """As it was at `snapshot`: what an abandoned attempt added goes."""
        self.from_, count, self.seen = snapshot
        del self.exprs[count:]


ROW = "<ROW>"  # where a row's name goes in a template: no Python name or repr holds "<"


@dataclass(frozen=True)
class Code:
    """A Python expression that makes a part of the answer from the row named ROW (and
    `run`), with the helpers it calls named in the compiler's namespace. An object's fields
    become one dict display, lists comprehensions: generated once per plan, no function
    call per field."""

    template: str

    def at(self, row: str) -> str:
        return self.template.replace(ROW, row)


Part = Code | Getter  # a field's part of the answer: generated code, or a function to call


def _global_id_prefix(type_name: str) -> bytes:
    """What core.ids.encode_global_id puts before a row id, for generated code to encode
    inline (checked against it, so that the two cannot drift apart)."""
    prefix = f"{type_name}:".encode()
    for local_id in ("x", "0123456789abcdef0123456789abcdef"):
        inline = b2a_base64(prefix + local_id.encode(), newline=False).decode()
        if encode_global_id(type_name, local_id) != inline:
            raise AssertionError("global ids are no longer base64 of type:id")
    return prefix


def _facts(model: Any, attributes: Sequence[str]) -> Callable[[Sequence[Any]], Any]:
    """An object with `attributes` from their columns' values, enums as enums: what a rule
    written for ORM rows reads."""
    table = sa_inspect(model).mapper.local_table
    converters: list[Callable[[Any], Any] | None] = []
    for attribute in attributes:
        column_type = table.c[attribute].type
        enum_class = column_type.enum_class if isinstance(column_type, Enum) else None
        converters.append(_by_name(enum_class) if enum_class else None)
    facts = namedtuple("Facts", attributes)  # type: ignore[misc]
    make = facts._make
    if not any(converters):
        return make
    pairs = list(enumerate(converters))

    def build(values: Sequence[Any]) -> Any:
        return make([values[i] if c is None else c(values[i]) for i, c in pairs])

    return build


def _by_name(enum_class: type[enum.Enum]) -> Callable[[Any], Any]:
    members = dict(enum_class.__members__)

    def convert(value: Any) -> Any:
        return None if value is None else members[value]

    return convert


def _missing(type_name: str) -> Callable[[], Any]:
    def missing() -> Any:
        raise Fallback(f"{type_name} of an object in scope is missing")

    return missing


class _Facts:
    """An address's parts for core.addresses."""


@dataclass
class Compiler:
    """Compiles the selections of one root field for one principal kind."""

    collect: Collect
    schema_types: Mapping[str, Any]
    stand_in: Principal
    # What a request's arguments bind in the statements, field by field: nested pages.
    binders: list[Callable[[Run], dict[str, Any]]] = field(default_factory=list)
    # The helpers generated code calls, by the names it calls them.
    env: dict[str, Any] = field(default_factory=dict)

    def helper(self, value: Any) -> str:
        name = f"_h{len(self.env)}"
        self.env[name] = value
        return name

    def code_of(self, part: Part) -> Code:
        if isinstance(part, Code):
            return part
        return Code(f"{self.helper(part)}({ROW}, run)")

    def function(self, part: Part) -> Getter:
        """A function of (row, run) that evaluates `part`."""
        if not isinstance(part, Code):
            return part
        source = f"def assemble(row, run):\n    return {part.at('row')}\n"
        namespace = dict(self.env)
        exec(compile(source, "<compiled read plan>", "exec"), namespace)  # noqa: S102
        function: Getter = namespace["assemble"]
        return function

    def variable(self) -> str:
        name = f"_r{len(self.env)}"
        self.env[name] = None  # reserves the name
        return name

    def bind(self, run: Run) -> None:
        """The values this request's arguments give the plan's parameters."""
        for binder in self.binders:
            run.values.update(binder(run))

    def argument_binder(
        self,
        field_def: GraphQLField,
        node: FieldNode,
        values: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.binders.append(lambda run: values(run.arguments(field_def, node)))

    def unique(self, name: str) -> str:
        return f"{name}_{len(self.binders)}"

    def object_type(self, name: str) -> GraphQLObjectType:
        type_ = self.schema_types[name]
        assert isinstance(type_, GraphQLObjectType)
        return type_

    # Objects --------------------------------------------------------------------------

    def node(
        self,
        type_name: str,
        entity: Any,
        columns: Columns,
        details: FieldDetailsList,
        *,
        currency: ColumnElement[Any] | None = None,
    ) -> Getter:
        """A function of a row giving a `type_name` object whose row is `entity`'s."""
        return self.function(self.node_code(type_name, entity, columns, details, currency=currency))

    def node_code(
        self,
        type_name: str,
        entity: Any,
        columns: Columns,
        details: FieldDetailsList,
        *,
        currency: ColumnElement[Any] | None = None,
    ) -> Code:
        """The fields of a `type_name` object whose row is `entity`'s, on `columns`."""
        gtype = self.object_type(type_name)
        entity_spec = spec.ENTITIES.get(type_name)
        if entity_spec is None:
            raise NotCompilable(type_name)
        items: list[str] = []
        for key, field_details in self.collect(gtype, details).items():
            name = field_details[0].node.name.value
            if name == "__typename":
                items.append(f"{key!r}: {type_name!r}")
                continue
            field_spec = entity_spec.fields.get(name)
            field_def = gtype.fields.get(name)
            if field_spec is None or field_def is None:
                raise NotCompilable(f"{type_name}.{name}")
            part: Part
            if isinstance(field_spec, spec.ChildConnection | spec.BusinessCustomers):
                part = self.child_connection(entity, columns, field_spec, field_def, field_details)
            elif any(fd.node.arguments for fd in field_details):
                raise NotCompilable(f"{type_name}.{name} with arguments")
            else:
                part = self.field(
                    type_name, entity, columns, field_spec, field_def.type, field_details, currency
                )
            items.append(f"{key!r}: {self.code_of(part).template}")
        return Code("{" + ", ".join(items) + "}")

    def field(
        self,
        type_name: str,
        entity: Any,
        columns: Columns,
        field_spec: spec.FieldSpec,
        type_: GraphQLOutputType,
        details: FieldDetailsList,
        currency: ColumnElement[Any] | None,
    ) -> Part:
        if isinstance(field_spec, spec.Column):
            index = columns.add(getattr(entity, field_spec.attribute))
            # An enum column holds its member's name, which is what is served.
            serialize = _identity if _is_enum(type_) else leaf_serializer(type_)
            value = f"{ROW}[{index}]"
            if serialize is _identity:
                return Code(value)
            return Code(f"(None if {value} is None else {self.helper(serialize)}({value}))")
        if isinstance(field_spec, spec.GlobalId):
            index = columns.add(entity.id)
            prefix = self.helper(_global_id_prefix(type_name))
            b64 = self.helper(b2a_base64)
            return Code(f"{b64}({prefix} + {ROW}[{index}].encode(), newline=False).decode()")
        if isinstance(field_spec, spec.MoneyColumn):
            amount = columns.add(getattr(entity, field_spec.amount))
            currency_expr = (
                getattr(entity, field_spec.currency) if field_spec.currency else currency
            )
            if currency_expr is None:
                raise NotCompilable(f"{type_name} money without a currency")
            currency_index = columns.add(currency_expr)
            return self.money_code(details, f"{ROW}[{amount}]", f"{ROW}[{currency_index}]")
        if isinstance(field_spec, spec.Computed):
            return self.computed(entity, columns, field_spec, type_, details)
        if isinstance(field_spec, spec.Related):
            return self.related(entity, columns, field_spec, details)
        if isinstance(field_spec, spec.Children):
            return self.children(entity, columns, field_spec, details)
        if isinstance(field_spec, spec.CreditBalances):
            return self.credit_balances(entity, columns, details)
        if isinstance(field_spec, spec.PlanChangeOptions):
            return self.plan_change_options(entity, columns, details)
        if isinstance(field_spec, spec.StaticPortalUrl):
            index = columns.add(entity.id)

            def static_url(row: Row, run: Run) -> str:
                settings = run.settings
                return static_portal_url(settings.link_base_url, row[index], live=settings.is_live)

            return static_url
        if isinstance(field_spec, spec.AddressColumns):
            return self.address(entity, columns, field_spec.prefix, details)
        if isinstance(field_spec, spec.InvoicePdfUrl):
            index = columns.add(entity.id)

            def pdf_url(row: Row, run: Run) -> str:
                global_id = encode_global_id(type_name, row[index])
                url: str = run.document_links.invoice_pdf_url(
                    run.settings.public_url, global_id, run.now
                )
                return url

            return pdf_url
        raise NotCompilable(f"{type_name}: {field_spec!r}")

    def address(
        self, entity: Any, columns: Columns, prefix: str, details: FieldDetailsList
    ) -> Getter:
        """core.addresses on the row's address columns, then Address's selection."""
        names = {"line1": "line1", "line2": "line2", "city": "city", "state": "state",
                 "postalCode": "postal_code", "country": "country"}  # fmt: skip
        parts: list[tuple[str, str]] = []
        for key, field_details in self.collect(self.object_type("Address"), details).items():
            name = field_details[0].node.name.value
            if name != "__typename" and name not in names:
                raise NotCompilable(f"Address.{name}")
            parts.append((key, name))
        indexes = [columns.add(getattr(entity, prefix + part)) for part in ADDRESS_PARTS]

        def get(row: Row, run: Run) -> dict[str, Any] | None:
            kept = _Facts()
            for part, index in zip(ADDRESS_PARTS, indexes, strict=True):
                setattr(kept, prefix + part, row[index])
            found = address_of(kept, prefix)
            if found is None:
                return None
            return {
                key: "Address" if name == "__typename" else found[names[name]]
                for key, name in parts
            }

        return get

    def child_connection(
        self,
        entity: Any,
        columns: Columns,
        field_spec: spec.ChildConnection | spec.BusinessCustomers,
        field_def: GraphQLField,
        details: FieldDetailsList,
    ) -> Getter:
        """A page of children per parent row: a correlated ARRAY of at most first + 1 rows
        after the cursor, and their count, in the parent's statement."""
        model: Any
        if isinstance(field_spec, spec.BusinessCustomers):
            type_name, model, parent_key = "CustomerAccount", CustomerAccount, "business_id"
        else:
            type_name, model, parent_key = (
                field_spec.type_name,
                field_spec.model,
                field_spec.parent_key,
            )
        child: Any = aliased(model)
        inner = Columns(child)
        inner.add(child.id)
        inner.add(child.created_at)
        shape = ConnectionShape(self, type_name, child, inner, details)
        limit, at, row_id, has_after = (
            self.unique(name) for name in ("limit", "after_at", "after_id", "has_after")
        )
        conditions: list[ColumnElement[bool]] = [
            getattr(child, parent_key) == entity.id,
            scope_condition(child, self.stand_in),
        ]
        email = has_email = None
        if isinstance(field_spec, spec.BusinessCustomers):
            email, has_email = self.unique("email"), self.unique("has_email")
            conditions.append(
                or_(
                    parameter(has_email, Boolean()) == false(),
                    child.email_normalized == parameter(email, String()),
                )
            )
        after = older_than(
            child,
            (parameter(at, DateTime(timezone=True)), parameter(row_id, String())),  # type: ignore[arg-type]
        )
        rows_stmt = (
            select(func.row(*inner.exprs))
            .select_from(inner.from_)
            .where(*conditions, or_(parameter(has_after, Boolean()) == false(), after))
            .order_by(*newest_first(child))
            .limit(parameter(limit, Integer()))
        )
        rows_index = columns.add(func.array(rows_stmt.scalar_subquery()))
        count_index = None
        if shape.counted:
            counted: Any = aliased(model)
            count_conditions = [
                getattr(counted, parent_key) == entity.id,
                scope_condition(counted, self.stand_in),
            ]
            if email is not None and has_email is not None:
                count_conditions.append(
                    or_(
                        parameter(has_email, Boolean()) == false(),
                        counted.email_normalized == parameter(email, String()),
                    )
                )
            count = select(func.count()).select_from(counted).where(*count_conditions)
            count_index = columns.add(count.scalar_subquery())
        node = details[0].node
        merchant_only = isinstance(field_spec, spec.BusinessCustomers)

        def values(arguments: dict[str, Any]) -> dict[str, Any]:
            page = page_request(arguments)
            bound: dict[str, Any] = {
                limit: page.first + 1,
                has_after: page.after is not None,
                at: page.after[0] if page.after else None,
                row_id: page.after[1] if page.after else None,
            }
            if email is not None and has_email is not None:
                given = arguments.get("email")
                bound[has_email] = given is not None
                bound[email] = match_key(given) if given is not None else None
            return bound

        self.argument_binder(field_def, node, values)
        parent_id = columns.add(entity.id)

        def get(row: Row, run: Run) -> dict[str, Any] | None:
            if merchant_only:
                principal = run.principal
                if not isinstance(principal, MerchantPrincipal) or (
                    principal.business_id != row[parent_id]
                ):
                    return None
            first = run.values[limit] - 1  # this request's page, as bound
            children = row[rows_index]
            total = row[count_index] if count_index is not None else 0
            return shape.assemble(
                children[:first], run, total, len(children) > first, run.values[has_after]
            )

        return get

    def money_code(self, details: FieldDetailsList, minor: str, currency: str) -> Code:
        """Money's selection as a dict display, from expressions of minor units and currency."""
        amount = self.helper(amount_text)
        items: list[str] = []
        for key, field_details in self.collect(self.object_type("Money"), details).items():
            name = field_details[0].node.name.value
            if name == "amount":
                items.append(f"{key!r}: {amount}({minor}, {currency})")
            elif name == "currency":
                items.append(f"{key!r}: {currency}")
            elif name == "__typename":
                items.append(f"{key!r}: 'Money'")
            else:
                raise NotCompilable(f"Money.{name}")
        return Code("{" + ", ".join(items) + "}")

    def computed(
        self,
        entity: Any,
        columns: Columns,
        field_spec: spec.Computed,
        type_: GraphQLOutputType,
        details: FieldDetailsList,
    ) -> Part:
        indexes = [columns.add(getattr(entity, name)) for name in field_spec.attributes]
        build = _facts(entity, field_spec.attributes)
        rule = field_spec.rule
        inputs = "(" + "".join(f"{ROW}[{i}], " for i in indexes) + ")"
        if field_spec.money:
            minor = f"{self.helper(computed_value)}({self.helper(build)}, " \
                f"{self.helper(rule)}, {inputs})"  # fmt: skip
            currency = columns.add(entity.currency)
            return self.money_code(details, minor, f"{ROW}[{currency}]")
        serialize = leaf_serializer(type_)

        def served(facts: Any) -> Any:
            value = rule(facts)
            return None if value is None else serialize(value)

        return Code(
            f"{self.helper(computed_value)}({self.helper(build)}, {self.helper(served)}, {inputs})"
        )

    def related(
        self, entity: Any, columns: Columns, field_spec: spec.Related, details: FieldDetailsList
    ) -> Code:
        model: Any = spec.ENTITIES[field_spec.type_name].model
        target = aliased(model)
        on = and_(
            target.id == getattr(entity, field_spec.foreign_key),
            scope_condition(target, self.stand_in),
        )
        columns.outer_join(target, on)
        present = columns.add(target.id)
        nested = self.node_code(field_spec.type_name, target, columns, details)
        if field_spec.required:
            missing = f"{self.helper(_missing(field_spec.type_name))}()"
        else:
            missing = "None"
        return Code(f"({missing} if {ROW}[{present}] is None else {nested.template})")

    def rows_of(
        self,
        type_name: str,
        model: Any,
        where: Callable[[Any], Sequence[ColumnElement[bool]]],
        order: Callable[[Any], Sequence[ColumnElement[Any]]],
        details: FieldDetailsList,
        *,
        scoped: bool = True,
        limit: int | None = None,
        currency: ColumnElement[Any] | None = None,
    ) -> tuple[ColumnElement[Any], Code]:
        """A correlated array of `type_name` rows (ROW values), and the code of one item."""
        child = aliased(model)
        inner = Columns(child)
        item = self.node_code(type_name, child, inner, details, currency=currency)
        conditions = list(where(child))
        if scoped:
            conditions.append(scope_condition(child, self.stand_in))
        stmt = (
            select(func.row(*inner.exprs))
            .select_from(inner.from_)
            .where(*conditions)
            .order_by(*order(child))
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return func.array(stmt.scalar_subquery()), item

    def each(self, item: Code, source: str) -> Code:
        """A list comprehension of `item` over the rows in `source`."""
        variable = self.variable()
        return Code(f"[{item.at(variable)} for {variable} in {source}]")

    def children(
        self, entity: Any, columns: Columns, field_spec: spec.Children, details: FieldDetailsList
    ) -> Code:
        parent_key = field_spec.parent_key
        array, item = self.rows_of(
            field_spec.type_name,
            field_spec.model,
            lambda child: (getattr(child, parent_key) == entity.id, *field_spec.where(child)),
            field_spec.order,
            details,
            scoped=field_spec.scoped,
            limit=1 if field_spec.first else None,
            currency=entity.currency if field_spec.parent_currency else None,
        )
        listed = self.each(item, f"{ROW}[{columns.add(array)}]")
        if field_spec.first:
            return Code(f"next(iter({listed.template}), None)")
        return listed

    def credit_balances(self, entity: Any, columns: Columns, details: FieldDetailsList) -> Code:
        balance = aliased(CreditBalance)
        stmt = (
            select(func.row(balance.amount_minor, balance.currency))
            .where(
                balance.account_id == entity.id,
                balance.amount_minor != 0,
                scope_condition(balance, self.stand_in),
            )
            .order_by(balance.currency)
        )
        item = self.money_code(details, f"{ROW}[0]", f"{ROW}[1]")
        return self.each(item, f"{ROW}[{columns.add(func.array(stmt.scalar_subquery()))}]")

    def plan_change_options(
        self, entity: Any, columns: Columns, details: FieldDetailsList
    ) -> Getter:
        """services.plan_change_rules on the subscription, its product, its business and the
        products of that product's collection, all read in the subscription's statement."""
        option_type = self.object_type("PlanChangeOption")
        product_selections: list[tuple[str, FieldDetailsList]] = []
        parts: list[tuple[str, str]] = []
        for key, field_details in self.collect(option_type, details).items():
            name = field_details[0].node.name.value
            if name == "product":
                product_selections.append((key, field_details))
            elif name not in ("direction", "__typename"):
                raise NotCompilable(f"PlanChangeOption.{name}")
            parts.append((key, name))

        sub_attributes = (
            "status", "cancel_at_period_end", "unit_price_minor", "quantity", "currency",
            "billing_interval",
        )  # fmt: skip
        sub_indexes = [columns.add(getattr(entity, name)) for name in sub_attributes]
        subscription_facts = _facts(Subscription, sub_attributes)

        current = aliased(Product)
        columns.outer_join(
            current,
            and_(current.id == entity.product_id, scope_condition(current, self.stand_in)),
        )
        current_attributes = ("id", "collection_id")
        current_indexes = [columns.add(getattr(current, name)) for name in current_attributes]
        current_facts = _facts(Product, current_attributes)

        business = aliased(Business)
        columns.outer_join(
            business,
            and_(business.id == entity.business_id, scope_condition(business, self.stand_in)),
        )
        business_attributes = ("id", "name", "allow_subscription_updates")
        business_indexes = [columns.add(getattr(business, name)) for name in business_attributes]
        business_facts = _facts(Business, business_attributes)

        candidate = aliased(Product)
        inner = Columns(candidate)
        product_attributes = (
            "id", "name", "type", "collection_id", "currency", "billing_interval", "price_minor",
        )  # fmt: skip
        product_indexes = [inner.add(getattr(candidate, name)) for name in product_attributes]
        product_facts = _facts(Product, product_attributes)
        # Each response key of `product` its own selection: `a: product { id } b: product
        # { name }` are two objects, as Strawberry answers them.
        products = {
            key: self.node("Product", candidate, inner, selection)
            for key, selection in product_selections
        }
        candidates_stmt = (
            select(func.row(*inner.exprs))
            .select_from(inner.from_)
            .where(
                candidate.collection_id == current.collection_id,
                scope_condition(candidate, self.stand_in),
            )
            .order_by(candidate.position, candidate.id)
        )
        candidates_index = columns.add(func.array(candidates_stmt.scalar_subquery()))

        pick_subscription, pick_current, pick_business, pick_product = (
            itemgetter(*indexes)
            for indexes in (sub_indexes, current_indexes, business_indexes, product_indexes)
        )

        def options_of(row: Row, run: Run) -> list[tuple[int, Any]]:
            """(candidate position, direction) of each option, by the one rule."""
            candidates_rows = row[candidates_index]
            key = (
                pick_subscription(row),
                pick_current(row),
                pick_business(row),
                tuple(map(pick_product, candidates_rows)),
            )
            found = run.memo.get(key)
            if found is not None:
                return found  # type: ignore[no-any-return]
            candidates = [
                product_facts([item[i] for i in product_indexes]) for item in candidates_rows
            ]
            position = {id(candidate): n for n, candidate in enumerate(candidates)}
            found = [
                (position[id(option.product)], option.direction)
                for option in plan_change_options(
                    subscription_facts([row[i] for i in sub_indexes]),
                    current_facts([row[i] for i in current_indexes]),
                    business_facts([row[i] for i in business_indexes]),
                    candidates,
                )
            ]
            run.memo[key] = found
            return found

        answers = object()  # this part's own answers in a request's memo

        def get(row: Row, run: Run) -> list[dict[str, Any]]:
            if row[current_indexes[0]] is None or row[business_indexes[0]] is None:
                return []
            if row[current_indexes[1]] is None:  # a product of no collection
                return []
            # Subscriptions of one plan on one page have the same options: made once.
            candidates_rows = row[candidates_index]
            key = (
                answers,
                pick_subscription(row),
                pick_current(row),
                pick_business(row),
                tuple(candidates_rows),
            )
            try:
                found = run.memo.get(key)
            except TypeError:  # a candidate's selection holds a list: nothing shared
                return answer_of(row, candidates_rows, run)
            if found is None:
                found = run.memo[key] = answer_of(row, candidates_rows, run)
            return found

        def answer_of(row: Row, candidates_rows: Sequence[Any], run: Run) -> list[dict[str, Any]]:
            answer = []
            for index, direction in options_of(row, run):
                out: dict[str, Any] = {}
                for key, name in parts:
                    if name == "product":
                        out[key] = products[key](candidates_rows[index], run)
                    elif name == "direction":
                        out[key] = direction.name
                    else:
                        out[key] = "PlanChangeOption"
                answer.append(out)
            return answer

        return get


class ConnectionShape:
    """A connection's selection (totalCount, edges with cursor and node, pageInfo) over rows
    whose first two columns are the node's id and created_at (its cursor)."""

    def __init__(
        self,
        compiler: Compiler,
        type_name: str,
        entity: Any,
        columns: Columns,
        details: FieldDetailsList,
    ) -> None:
        self.type_name = type_name
        self.edge_name = f"{type_name}Edge"
        connection_type = compiler.object_type(f"{type_name}Connection")
        self.parts: list[tuple[str, str, Any]] = []
        self.counted = False
        for key, field_details in compiler.collect(connection_type, details).items():
            name = field_details[0].node.name.value
            if name == "totalCount":
                self.counted = True
                self.parts.append((key, name, None))
            elif name == "edges":
                self.parts.append(
                    (key, name, self._edges(compiler, entity, columns, field_details))
                )
            elif name == "pageInfo":
                info_type = compiler.object_type("PageInfo")
                info = [
                    (info_key, info_details[0].node.name.value)
                    for info_key, info_details in compiler.collect(info_type, field_details).items()
                ]
                self.parts.append((key, name, info))
            elif name == "__typename":
                self.parts.append((key, name, connection_type.name))
            else:
                raise NotCompilable(f"{connection_type.name}.{name}")

    def _edges(
        self, compiler: Compiler, entity: Any, columns: Columns, details: FieldDetailsList
    ) -> Getter:
        """A function of the page's rows giving its edges: written by PostgreSQL as JSON when
        every field of the edge is plain (compiled.sql_json), else assembled here."""
        written = self._json_edges(compiler, entity, columns, details)
        if written is not None:
            return written
        edge_type = compiler.object_type(self.edge_name)
        items: list[str] = []
        for key, edge_details in compiler.collect(edge_type, details).items():
            name = edge_details[0].node.name.value
            if name == "node":
                node = compiler.node_code(self.type_name, entity, columns, edge_details)
                items.append(f"{key!r}: {node.template}")
            elif name == "cursor":
                # Written by the statement (the rule held to core.ids' by tests): a page of
                # a hundred cursors is a hundred base64 encodings fewer here.
                cursor = columns.add(cursor_sql(entity.created_at, entity.id))
                items.append(f"{key!r}: {ROW}[{cursor}]")
            elif name == "__typename":
                items.append(f"{key!r}: {self.edge_name!r}")
            else:
                raise NotCompilable(f"{edge_type.name}.{name}")
        edge = Code("{" + ", ".join(items) + "}")
        return compiler.function(compiler.each(edge, ROW))

    def _json_edges(
        self, compiler: Compiler, entity: Any, columns: Columns, details: FieldDetailsList
    ) -> Getter | None:
        before = columns.snapshot()
        writer = JsonCompiler(compiler.collect, compiler.object_type, compiler.stand_in)
        try:
            edge, checks = writer.edge(self.type_name, entity, columns, details)
        except NotJson as reason:
            columns.restore(before)
            log.debug("edges of %s assembled in Python: %s", self.type_name, reason)
            return None
        index = columns.add(edge)
        type_name = self.type_name

        def edges(rows: Sequence[Any], run: Run) -> Any:
            if not checks.holds(rows):
                raise Fallback(f"a {type_name} of the page misses what its answer needs")
            return spliced(rows, index)

        return edges

    def assemble(
        self, rows: Sequence[Any], run: Run, total: int, has_next: bool, has_previous: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, name, sub in self.parts:
            if name == "totalCount":
                out[key] = total
            elif name == "edges":
                out[key] = sub(rows, run)
            elif name == "pageInfo":
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": has_previous,
                    "startCursor": encode_cursor(rows[0][1], rows[0][0]) if rows else None,
                    "endCursor": encode_cursor(rows[-1][1], rows[-1][0]) if rows else None,
                    "__typename": "PageInfo",
                }
                out[key] = {info_key: info[info_name] for info_key, info_name in sub}
            else:
                out[key] = sub
        return out
