"""Edges that PostgreSQL writes as JSON: a connection's page whose every field is plain.

A page of invoices or payments is mostly columns, global ids, money, nested objects and
lists: the statement can write each edge's JSON itself, and the answer splices that text in
unparsed (orjson.Fragment), with no Python object per field. A selection that reaches
anything else (a computed rule, a signed link, an address, a nested connection) is
assembled in Python as before.

The rules PostgreSQL applies here are the Python ones translated, side by side, and
tests/test_sql_json.py holds each to its Python original over sample values: global ids
(core.ids.encode_global_id), cursors (core.ids.encode_cursor), amounts
(core.money.Money.to_decimal) and datetimes (datetime.isoformat, UTC). What a row could
hold that the Python assembly would refuse (a required relation out of scope, a currency
without an exponent) is checked on the row, and the whole root field is then answered by
Strawberry (plan.Fallback), as the Python assembly does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLOutputType, GraphQLScalarType
from orjson import Fragment
from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from portal_gateway.auth.scope import scope_condition
from portal_gateway.compiled import fields as spec
from portal_gateway.core.money import CURRENCY_EXPONENTS

# json_build_object takes at most 100 arguments: 50 fields.
MAX_FIELDS = 50


class NotJson(Exception):
    """This selection needs the Python assembly."""


def _text(value: str) -> Any:
    """A constant of the statement's text (names of types and fields: no quote in them)."""
    if "'" in value or "\\" in value:
        raise NotJson(value)
    return literal_column(f"'{value}'", String())


# PostgreSQL's base64 breaks lines after 76 characters, and after 56 bytes of input already
# ends with a newline; Python's does neither.
_ONE_LINE = 56


def _base64(data: Any) -> Any:
    return func.encode(func.convert_to(data, _text("UTF8")), _text("base64"))


def _one_line(encoded: Any) -> Any:
    return func.replace(encoded, literal_column("E'\\n'"), _text(""))


def global_id_sql(type_name: str, row_id: Any) -> Any:
    """core.ids.encode_global_id: base64 of "Type:id". Row ids are 32 characters: one line,
    without the (dear) newline removal, unless an id is longer than any made here."""
    prefix = f"{type_name}:"
    encoded = _base64(_text(prefix).concat(row_id))
    return case(
        (
            func.octet_length(row_id) <= literal_column(str(_ONE_LINE - len(prefix.encode()))),
            encoded,
        ),
        else_=_one_line(encoded),
    )


def iso_sql(stamp: Any) -> Any:
    """datetime.isoformat of a UTC timestamp: microseconds only when there are any (".000000"
    can only be the fraction)."""
    utc = func.timezone(_text("UTC"), stamp)
    written = func.to_char(utc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS.US'"))
    return func.replace(written, _text(".000000"), _text("")).concat(_text("+00:00"))


def cursor_sql(created_at: Any, row_id: Any) -> Any:
    """core.ids.encode_cursor: URL-safe base64 of "isoformat|id", without padding."""
    encoded = _one_line(_base64(iso_sql(created_at).concat(_text("|")).concat(row_id)))
    url_safe = func.replace(func.replace(encoded, _text("+"), _text("-")), _text("/"), _text("_"))
    return func.rtrim(url_safe, _text("="))


def _codes(exponent: int) -> list[str]:
    return [code for code, known in CURRENCY_EXPONENTS.items() if known == exponent]


def amount_sql(minor: Any, currency: Any) -> Any:
    """str(Money(minor, currency).to_decimal()): exactly the currency's decimals
    (core.money's exponents); NULL for a currency it does not know."""
    whens = []
    for exponent in sorted(set(CURRENCY_EXPONENTS.values()), reverse=True):
        codes = [_text(code) for code in _codes(exponent)]
        if exponent == 0:
            value = cast(minor, Text())
        else:
            value = cast(minor * literal_column(f"{Decimal(1).scaleb(-exponent)}"), Text())
        whens.append((currency.in_(codes), value))
    return case(*whens)


@dataclass
class Checks:
    """What each row must hold for its JSON to be the answer: columns of the page's row
    that must not be NULL (required relations) and that must be known currencies, each
    unless its guard (the id of an optional relation above it) is NULL: what hangs under
    an absent relation is not in the answer."""

    columns: Any  # plan.Columns of the page's row
    nested: bool = False  # inside a list: nothing can be checked per item
    guard: Any = None
    present: list[tuple[int, int | None]] = field(default_factory=list)
    currencies: list[tuple[int, int | None]] = field(default_factory=list)

    def under(self, guard: Any) -> Checks:
        """The same checks, for what hangs under the optional relation whose id is `guard`."""
        return replace(self, guard=guard)

    def _indexes(self, expr: Any) -> tuple[int, int | None]:
        guard = None if self.guard is None else self.columns.add(self.guard)
        return self.columns.add(expr), guard

    def require(self, expr: Any) -> None:
        if self.nested:
            raise NotJson("a required relation inside a list")
        self.present.append(self._indexes(expr))

    def known_currency(self, expr: Any) -> None:
        if self.nested:
            raise NotJson("a currency of a list's own rows")
        self.currencies.append(self._indexes(expr))

    def holds(self, rows: Sequence[Any]) -> bool:
        present, currencies = self.present, self.currencies
        for row in rows:
            for index, guard in present:
                if row[index] is None and (guard is None or row[guard] is not None):
                    return False
            for index, guard in currencies:
                if row[index] not in CURRENCY_EXPONENTS and (
                    guard is None or row[guard] is not None
                ):
                    return False
        return True


def _object(pairs: list[tuple[str, Any]]) -> Any:
    if len(pairs) > MAX_FIELDS:
        raise NotJson("too many fields for one json_build_object")
    arguments: list[Any] = []
    for key, value in pairs:
        arguments += [_text(key), value]
    return func.json_build_object(*arguments)


def _leaf(type_: GraphQLOutputType, expr: Any) -> Any:
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLEnumType):
        return expr  # stored by the member's name, which is what is served
    if isinstance(named, GraphQLScalarType):
        if named.name in ("String", "ID", "Boolean", "Int"):
            return expr
        if named.name == "DateTime":
            return iso_sql(expr)
    raise NotJson(f"{named} as JSON")


@dataclass
class JsonCompiler:
    """Writes a node's selection as a JSON expression over `entity`'s row."""

    collect: Callable[[Any, Any], Any]
    object_type: Callable[[str], Any]
    stand_in: Any

    def node(
        self,
        type_name: str,
        entity: Any,
        columns: Any,
        details: Any,
        checks: Checks,
        *,
        currency: Any = None,
    ) -> Any:
        gtype = self.object_type(type_name)
        entity_spec = spec.ENTITIES.get(type_name)
        if entity_spec is None:
            raise NotJson(type_name)
        pairs: list[tuple[str, Any]] = []
        for key, field_details in self.collect(gtype, details).items():
            name = field_details[0].node.name.value
            if name == "__typename":
                pairs.append((key, _text(type_name)))
                continue
            field_spec = entity_spec.fields.get(name)
            field_def = gtype.fields.get(name)
            if field_spec is None or field_def is None:
                raise NotJson(f"{type_name}.{name}")
            if any(fd.node.arguments for fd in field_details):
                raise NotJson(f"{type_name}.{name} with arguments")
            pairs.append(
                (key, self.field(type_name, entity, columns, field_spec, field_def.type,
                                 field_details, checks, currency))
            )  # fmt: skip
        return _object(pairs)

    def field(
        self,
        type_name: str,
        entity: Any,
        columns: Any,
        field_spec: Any,
        type_: GraphQLOutputType,
        details: Any,
        checks: Checks,
        currency: Any,
    ) -> Any:
        if isinstance(field_spec, spec.Column):
            return _leaf(type_, getattr(entity, field_spec.attribute))
        if isinstance(field_spec, spec.GlobalId):
            return global_id_sql(type_name, entity.id)
        if isinstance(field_spec, spec.MoneyColumn):
            if field_spec.currency:
                currency_expr = getattr(entity, field_spec.currency)
                checks.known_currency(currency_expr)
            elif currency is not None:
                currency_expr = currency  # the parent's, checked on the parent's row
            else:
                raise NotJson(f"{type_name} money without a currency")
            return self.money(getattr(entity, field_spec.amount), currency_expr, details)
        if isinstance(field_spec, spec.Related):
            return self.related(entity, columns, field_spec, details, checks)
        if isinstance(field_spec, spec.Children):
            return self.children(entity, field_spec, details, checks)
        raise NotJson(f"{type_name}: {field_spec!r}")

    def money(self, minor: Any, currency: Any, details: Any) -> Any:
        pairs: list[tuple[str, Any]] = []
        for key, field_details in self.collect(self.object_type("Money"), details).items():
            name = field_details[0].node.name.value
            if name == "amount":
                pairs.append((key, amount_sql(minor, currency)))
            elif name == "currency":
                pairs.append((key, currency))
            elif name == "__typename":
                pairs.append((key, _text("Money")))
            else:
                raise NotJson(f"Money.{name}")
        return _object(pairs)

    def related(
        self,
        entity: Any,
        columns: Any,
        field_spec: spec.Related,
        details: Any,
        checks: Checks,
    ) -> Any:
        model: Any = spec.ENTITIES[field_spec.type_name].model
        target = aliased(model)
        columns.outer_join(
            target,
            and_(
                target.id == getattr(entity, field_spec.foreign_key),
                scope_condition(target, self.stand_in),
            ),
        )
        if field_spec.required:
            checks.require(target.id)
        inner = checks if field_spec.required else checks.under(target.id)
        nested = self.node(field_spec.type_name, target, columns, details, inner)
        return case((target.id.is_(None), null()), else_=nested)

    def children(self, entity: Any, field_spec: spec.Children, details: Any, checks: Checks) -> Any:
        from portal_gateway.compiled.plan import Columns  # plan imports this module

        child = aliased(field_spec.model)
        inner = Columns(child)
        currency = None
        if field_spec.parent_currency:
            currency = entity.currency
            checks.known_currency(currency)
        item = self.node(
            field_spec.type_name, child, inner, details, Checks(inner, nested=True),
            currency=currency,
        )  # fmt: skip
        conditions: list[ColumnElement[bool]] = [
            getattr(child, field_spec.parent_key) == entity.id,
            *field_spec.where(child),
        ]
        if field_spec.scoped:
            conditions.append(scope_condition(child, self.stand_in))
        order = field_spec.order(child)
        if field_spec.first:
            stmt = select(item).select_from(inner.from_).where(*conditions).order_by(*order)
            return stmt.limit(1).scalar_subquery()
        listed = (
            select(func.json_agg(aggregate_order_by(item, *order)))
            .select_from(inner.from_)
            .where(*conditions)
            .scalar_subquery()
        )
        return func.coalesce(listed, literal_column("'[]'::json"))

    def edge(self, type_name: str, entity: Any, columns: Any, details: Any) -> tuple[Any, Checks]:
        """An edge of `type_name`'s connection as JSON, and what its rows must hold."""
        checks = Checks(columns)
        edge_name = f"{type_name}Edge"
        pairs: list[tuple[str, Any]] = []
        for key, edge_details in self.collect(self.object_type(edge_name), details).items():
            name = edge_details[0].node.name.value
            if name == "node":
                pairs.append((key, self.node(type_name, entity, columns, edge_details, checks)))
            elif name == "cursor":
                pairs.append((key, cursor_sql(entity.created_at, entity.id)))
            elif name == "__typename":
                pairs.append((key, _text(edge_name)))
            else:
                raise NotJson(f"{edge_name}.{name}")
        return _object(pairs), checks


def spliced(rows: Sequence[Any], index: int) -> Fragment:
    """The JSON texts at `index` of `rows` as one JSON list, unparsed."""
    return Fragment("[" + ",".join([row[index] for row in rows]) + "]")
