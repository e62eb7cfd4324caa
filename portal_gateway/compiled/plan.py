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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy import ColumnElement, Enum, and_, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased, outerjoin

from portal_gateway.auth.principal import Principal
from portal_gateway.auth.scope import scope_condition
from portal_gateway.compiled import fields as spec
from portal_gateway.core import clock
from portal_gateway.core.ids import encode_global_id
from portal_gateway.core.money import Money
from portal_gateway.models import Business, CreditBalance, Product, Subscription
from portal_gateway.services.plan_change_rules import plan_change_options

FieldDetailsList = Sequence[FieldDetails]


class NotCompilable(Exception):
    """This selection reaches something the compiler does not know: Strawberry answers it."""


class Fallback(Exception):
    """At run time: this root field is answered by Strawberry after all (an argument it
    refuses, a required relation out of scope), so that its error is the reference's."""


class Run:
    """What one request brings to a plan: its principal, its bound values, its resources."""

    __slots__ = ("document_links", "now", "principal", "public_url", "secret", "values")

    def __init__(
        self,
        principal: Principal,
        values: dict[str, Any],
        *,
        document_links: Any,
        public_url: str,
        secret: bytes,
    ) -> None:
        self.principal = principal
        self.values = values
        self.document_links = document_links
        self.public_url = public_url
        self.secret = secret
        self.now = clock.now()


Row = Sequence[Any]
Getter = Callable[[Row, Run], Any]
Collect = Callable[[GraphQLObjectType, FieldDetailsList], Mapping[str, FieldDetailsList]]


def _identity(value: Any) -> Any:
    return value


def _enum_name(value: Any) -> Any:
    return value.name if isinstance(value, enum.Enum) else value


def _isoformat(value: datetime) -> str:
    return value.isoformat()


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
        return _isoformat
    if named.name == "Decimal":
        return str
    return named.serialize


class Columns:
    """The select list of one statement (or of one ROW in an array), and its FROM."""

    def __init__(self, entity: Any) -> None:
        self.entity = entity
        self.exprs: list[Any] = []
        self.from_: Any = entity

    def add(self, expr: Any) -> int:
        self.exprs.append(expr)
        return len(self.exprs) - 1

    def outer_join(self, target: Any, on: ColumnElement[bool]) -> None:
        self.from_ = outerjoin(self.from_, target, on)


def _get(index: int, serialize: Callable[[Any], Any]) -> Getter:
    if serialize is _identity:
        return lambda row, run: row[index]

    def get(row: Row, run: Run) -> Any:
        value = row[index]
        return None if value is None else serialize(value)

    return get


def _constant(value: Any) -> Getter:
    return lambda row, run: value


def _object(items: list[tuple[str, Getter]]) -> Getter:
    def assemble(row: Row, run: Run) -> dict[str, Any]:
        return {key: get(row, run) for key, get in items}

    return assemble


def _facts(model: Any, attributes: Sequence[str]) -> Callable[[Sequence[Any]], Any]:
    """An object with `attributes` from their columns' values, enums as enums: what a rule
    written for ORM rows reads."""
    table = sa_inspect(model).mapper.local_table
    converters: list[Callable[[Any], Any]] = []
    for attribute in attributes:
        column_type = table.c[attribute].type
        enum_class = column_type.enum_class if isinstance(column_type, Enum) else None
        converters.append(_by_name(enum_class) if enum_class else _identity)

    names = tuple(attributes)

    def build(values: Sequence[Any]) -> Any:
        facts = _Facts()
        for name, convert, value in zip(names, converters, values, strict=True):
            setattr(facts, name, convert(value))
        return facts

    return build


def _by_name(enum_class: type[enum.Enum]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return None if value is None else enum_class[value]

    return convert


class _Facts:
    """A row's attributes for a rule (see `_facts`)."""


@dataclass
class Compiler:
    """Compiles the selections of one root field for one principal kind."""

    collect: Collect
    schema_types: Mapping[str, Any]
    stand_in: Principal

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
        """The fields of a `type_name` object whose row is `entity`'s, on `columns`."""
        gtype = self.object_type(type_name)
        entity_spec = spec.ENTITIES.get(type_name)
        if entity_spec is None:
            raise NotCompilable(type_name)
        items: list[tuple[str, Getter]] = []
        for key, field_details in self.collect(gtype, details).items():
            name = field_details[0].node.name.value
            if name == "__typename":
                items.append((key, _constant(type_name)))
                continue
            field_spec = entity_spec.fields.get(name)
            field_def = gtype.fields.get(name)
            if field_spec is None or field_def is None:
                raise NotCompilable(f"{type_name}.{name}")
            if any(fd.node.arguments for fd in field_details):
                raise NotCompilable(f"{type_name}.{name} with arguments")
            get = self.field(
                type_name, entity, columns, field_spec, field_def.type, field_details, currency
            )
            items.append((key, get))
        return _object(items)

    def field(
        self,
        type_name: str,
        entity: Any,
        columns: Columns,
        field_spec: spec.FieldSpec,
        type_: GraphQLOutputType,
        details: FieldDetailsList,
        currency: ColumnElement[Any] | None,
    ) -> Getter:
        if isinstance(field_spec, spec.Column):
            index = columns.add(getattr(entity, field_spec.attribute))
            return _get(index, leaf_serializer(type_))
        if isinstance(field_spec, spec.GlobalId):
            index = columns.add(entity.id)
            return lambda row, run: encode_global_id(type_name, row[index])
        if isinstance(field_spec, spec.MoneyColumn):
            amount = columns.add(getattr(entity, field_spec.amount))
            currency_expr = (
                getattr(entity, field_spec.currency) if field_spec.currency else currency
            )
            if currency_expr is None:
                raise NotCompilable(f"{type_name} money without a currency")
            money = self.money(details)
            currency_index = columns.add(currency_expr)
            return lambda row, run: money(row[amount], row[currency_index])
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
        if isinstance(field_spec, spec.InvoicePdfUrl):
            index = columns.add(entity.id)

            def pdf_url(row: Row, run: Run) -> str:
                global_id = encode_global_id(type_name, row[index])
                url: str = run.document_links.invoice_pdf_url(run.public_url, global_id, run.now)
                return url

            return pdf_url
        raise NotCompilable(f"{type_name}: {field_spec!r}")

    def money(self, details: FieldDetailsList) -> Callable[[int, str], dict[str, Any]]:
        """Money's selection, from minor units and a currency (its exponent from core)."""
        parts: list[tuple[str, str]] = []
        for key, field_details in self.collect(self.object_type("Money"), details).items():
            name = field_details[0].node.name.value
            if name not in ("amount", "currency", "__typename"):
                raise NotCompilable(f"Money.{name}")
            parts.append((key, name))

        def assemble(minor: int, currency: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, name in parts:
                if name == "amount":
                    out[key] = str(Money(minor, currency).to_decimal())
                elif name == "currency":
                    out[key] = currency
                else:
                    out[key] = "Money"
            return out

        return assemble

    def computed(
        self,
        entity: Any,
        columns: Columns,
        field_spec: spec.Computed,
        type_: GraphQLOutputType,
        details: FieldDetailsList,
    ) -> Getter:
        indexes = [columns.add(getattr(entity, name)) for name in field_spec.attributes]
        build = _facts(entity, field_spec.attributes)
        rule = field_spec.rule
        if field_spec.money:
            money = self.money(details)
            currency = columns.add(entity.currency)
            return lambda row, run: money(rule(build([row[i] for i in indexes])), row[currency])
        serialize = leaf_serializer(type_)

        def get(row: Row, run: Run) -> Any:
            value = rule(build([row[i] for i in indexes]))
            return None if value is None else serialize(value)

        return get

    def related(
        self, entity: Any, columns: Columns, field_spec: spec.Related, details: FieldDetailsList
    ) -> Getter:
        model: Any = spec.ENTITIES[field_spec.type_name].model
        target = aliased(model)
        on = and_(
            target.id == getattr(entity, field_spec.foreign_key),
            scope_condition(target, self.stand_in),
        )
        columns.outer_join(target, on)
        present = columns.add(target.id)
        assemble = self.node(field_spec.type_name, target, columns, details)
        required = field_spec.required

        def get(row: Row, run: Run) -> Any:
            if row[present] is None:
                if required:
                    raise Fallback(f"{field_spec.type_name} of an object in scope is missing")
                return None
            return assemble(row, run)

        return get

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
    ) -> tuple[ColumnElement[Any], Callable[[Any, Run], list[Any]]]:
        """A correlated array of `type_name` rows (ROW values) and its assembler."""
        child = aliased(model)
        inner = Columns(child)
        assemble = self.node(type_name, child, inner, details, currency=currency)
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
        array = func.array(stmt.scalar_subquery())

        def rows(value: Any, run: Run) -> list[Any]:
            return [assemble(item, run) for item in value]

        return array, rows

    def children(
        self, entity: Any, columns: Columns, field_spec: spec.Children, details: FieldDetailsList
    ) -> Getter:
        parent_key = field_spec.parent_key
        array, rows = self.rows_of(
            field_spec.type_name,
            field_spec.model,
            lambda child: (getattr(child, parent_key) == entity.id, *field_spec.where(child)),
            field_spec.order,
            details,
            scoped=field_spec.scoped,
            limit=1 if field_spec.first else None,
            currency=entity.currency if field_spec.parent_currency else None,
        )
        index = columns.add(array)
        if field_spec.first:

            def first(row: Row, run: Run) -> Any:
                found = rows(row[index], run)
                return found[0] if found else None

            return first
        return lambda row, run: rows(row[index], run)

    def credit_balances(self, entity: Any, columns: Columns, details: FieldDetailsList) -> Getter:
        balance = aliased(CreditBalance)
        money = self.money(details)
        stmt = (
            select(func.row(balance.amount_minor, balance.currency))
            .where(
                balance.account_id == entity.id,
                balance.amount_minor != 0,
                scope_condition(balance, self.stand_in),
            )
            .order_by(balance.currency)
        )
        index = columns.add(func.array(stmt.scalar_subquery()))
        return lambda row, run: [money(minor, currency) for minor, currency in row[index]]

    def plan_change_options(
        self, entity: Any, columns: Columns, details: FieldDetailsList
    ) -> Getter:
        """services.plan_change_rules on the subscription, its product, its business and the
        products of that product's collection, all read in the subscription's statement."""
        option_type = self.object_type("PlanChangeOption")
        product_details: list[FieldDetails] = []
        parts: list[tuple[str, str]] = []
        for key, field_details in self.collect(option_type, details).items():
            name = field_details[0].node.name.value
            if name == "product":
                product_details.extend(field_details)
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
        assemble_product = (
            self.node("Product", candidate, inner, product_details) if product_details else None
        )
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

        def get(row: Row, run: Run) -> list[dict[str, Any]]:
            if row[current_indexes[0]] is None or row[business_indexes[0]] is None:
                return []
            current_product = current_facts([row[i] for i in current_indexes])
            if current_product.collection_id is None:
                return []
            candidates = []
            by_identity: dict[int, Any] = {}
            for item in row[candidates_index]:
                facts = product_facts([item[i] for i in product_indexes])
                by_identity[id(facts)] = item
                candidates.append(facts)
            options = plan_change_options(
                subscription_facts([row[i] for i in sub_indexes]),
                current_product,
                business_facts([row[i] for i in business_indexes]),
                candidates,
            )
            answer = []
            for option in options:
                out: dict[str, Any] = {}
                for key, name in parts:
                    if name == "product":
                        assert assemble_product is not None
                        out[key] = assemble_product(by_identity[id(option.product)], run)
                    elif name == "direction":
                        out[key] = option.direction.name
                    else:
                        out[key] = "PlanChangeOption"
                answer.append(out)
            return answer

        return get


def list_of(type_: GraphQLOutputType) -> GraphQLOutputType:
    """The item type of a list field."""
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not isinstance(named, GraphQLList):
        raise NotCompilable(f"{type_} is not a list")
    return named.of_type  # type: ignore[no-any-return]
