"""Root fields that compile: `viewer` with its lists and connections.

A root plan holds its statements compiled for one principal kind; a statement whose shape
depends on which optional arguments a request gives (a business filter, a cursor) is
compiled once per such shape, never per value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from graphql import GraphQLField
from sqlalchemy import ARRAY, DateTime, Integer, Select, String, exists, func, select, true

from portal_gateway.auth.principal import MerchantPrincipal, PortalPrincipal, Principal
from portal_gateway.auth.scope import scope_condition
from portal_gateway.compiled import fields as spec
from portal_gateway.compiled.plan import (
    Columns,
    Compiler,
    ConnectionShape,
    Fallback,
    FieldDetailsList,
    Getter,
    NotCompilable,
    Run,
    page_request,
)
from portal_gateway.compiled.statements import parameter
from portal_gateway.core.ids import (
    NO_SUCH_ID,
    customer_id,
    decode_global_id,
    encode_global_id,
    local_id,
)
from portal_gateway.db import RawStatement as Statement
from portal_gateway.loaders import NODE_MODELS
from portal_gateway.loaders.pagination import newest_first, older_than
from portal_gateway.models import (
    Business,
    CustomerAccount,
    Invoice,
    LicenseKey,
    Payment,
    PaymentMethod,
    Purchase,
    Subscription,
)
from portal_gateway.queries.accounts import viewer_accounts
from portal_gateway.queries.businesses import listing_order
from portal_gateway.queries.payments import saved_cards
from portal_gateway.queries.readable import readable
from portal_gateway.queries.subscriptions import readable_subscriptions


def _business_filter(global_id: str | None) -> str | None:
    """A businessId argument; a malformed one is the reference path's error to give."""
    if global_id is None:
        return None
    business_id = local_id(global_id, "Business")
    if business_id == NO_SUCH_ID:
        raise Fallback("businessId")
    return business_id


def _statement_of(columns: Columns, base: Select[Any]) -> Select[Any]:
    """`base` (a query function's scoped select of the entity) with the plan's columns."""
    return base.with_only_columns(*columns.exprs).select_from(columns.from_)


Base = Callable[[Principal, Any, Any], Select[Any]]


def _readable_of(model: Any) -> Base:
    return lambda principal, business_id, _statuses: readable(
        model, principal, business_id=business_id
    )


def _subscriptions(principal: Principal, business_id: Any, statuses: Any) -> Select[Any]:
    stmt = readable_subscriptions(principal, business_id=business_id)
    return stmt if statuses is None else stmt.where(Subscription.status == func.any(statuses))


# The viewer's connections: the type of their nodes, its table, the scoped base select.
CONNECTIONS: dict[str, tuple[str, Any, Base]] = {
    "purchases": ("Purchase", Purchase, _readable_of(Purchase)),
    "subscriptions": ("Subscription", Subscription, _subscriptions),
    "invoices": ("Invoice", Invoice, _readable_of(Invoice)),
    "payments": ("Payment", Payment, _readable_of(Payment)),
    "licenseKeys": ("LicenseKey", LicenseKey, _readable_of(LicenseKey)),
}


@dataclass
class ConnectionPlan:
    """A keyset page of a table's rows in scope, its totalCount in the same statement."""

    compiler: Compiler
    type_name: str
    model: Any
    base: Base
    details: FieldDetailsList
    # What must exist for the page to be read at all (the viewer's accounts, when the viewer
    # asks for nothing else of them): its statement then returns no row without it.
    guard: Select[Any] | None = None
    columns: Columns = field(init=False)
    shape: ConnectionShape = field(init=False)
    variants: dict[tuple[bool, bool, bool], Statement] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = columns = Columns(self.model)
        columns.add(self.model.id)
        columns.add(self.model.created_at)
        self.shape = ConnectionShape(
            self.compiler, self.type_name, self.model, columns, self.details
        )

    @property
    def counted(self) -> bool:
        return self.shape.counted

    def statement(self, business: bool, statuses: bool, after: bool) -> Statement:
        found = self.variants.get((business, statuses, after))
        if found is not None:
            return found
        model = self.model
        base = self.base(
            self.compiler.stand_in,
            parameter("business_id", String()) if business else None,
            parameter("statuses", ARRAY(String())) if statuses else None,
        )
        rows = _statement_of(self.columns, base)
        if after:
            at = parameter("after_at", DateTime(timezone=True))
            rows = rows.where(older_than(model, (at, parameter("after_id", String()))))  # type: ignore[arg-type]
        rows = rows.order_by(*newest_first(model)).limit(parameter("limit", Integer()))
        stmt: Any = rows
        if self.counted:
            labelled = rows.with_only_columns(
                *(expr.label(f"c{i}") for i, expr in enumerate(self.columns.exprs))
            )
            page = labelled.lateral("page")
            count = (
                select(func.count().label("total"))
                .select_from(base.order_by(None).subquery())
                .subquery("counted")
            )
            stmt = select(count.c.total, *page.c).select_from(count.outerjoin(page, true()))
            if self.guard is not None:
                stmt = stmt.where(exists(self.guard))
        compiled = self.variants[(business, statuses, after)] = Statement.of(stmt)
        return compiled

    async def run(
        self, connection: asyncpg.Connection, run: Run, arguments: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        page = page_request(arguments)
        business_id = _business_filter(arguments.get("businessId"))
        statuses = arguments.get("status") or None
        values = dict(run.values)
        values["limit"] = page.first + 1
        if business_id is not None:
            values["business_id"] = business_id
        if statuses is not None:
            values["statuses"] = [status.name for status in statuses]
        if page.after is not None:
            values["after_at"], values["after_id"] = page.after
        stmt = self.statement(business_id is not None, statuses is not None, page.after is not None)
        records = await stmt.fetch(connection, values)
        if self.guard is not None and not records:
            return None  # what the guard requires is not there
        total = 0
        if self.counted:
            total = records[0][0] if records else 0
            rows: Sequence[Any] = [tuple(r)[1:] for r in records if r[1] is not None]
        else:
            rows = records
        has_next = len(rows) > page.first
        return self.shape.assemble(rows[: page.first], run, total, has_next, page.after is not None)


@dataclass
class ListPlan:
    """A list of a table's rows in scope, in one statement: the viewer's cards."""

    compiler: Compiler
    type_name: str
    model: Any
    base: Base
    details: FieldDetailsList
    listed: bool = False  # a customer's businesses, in queries.businesses.listing_order
    columns: Columns = field(init=False)
    node: Getter = field(init=False)
    variants: dict[bool, Statement] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = Columns(self.model)
        self.columns.add(self.model.id)
        self.columns.add(self.model.name if self.listed else self.model.id)
        self.node = self.compiler.node(self.type_name, self.model, self.columns, self.details)

    def statement(self, business: bool) -> Statement:
        found = self.variants.get(business)
        if found is None:
            base = self.base(
                self.compiler.stand_in,
                parameter("business_id", String()) if business else None,
                None,
            )
            found = self.variants[business] = Statement.of(_statement_of(self.columns, base))
        return found

    async def run(
        self, connection: asyncpg.Connection, run: Run, arguments: Mapping[str, Any]
    ) -> list[Any]:
        business_id = _business_filter(arguments.get("businessId"))
        values = dict(run.values)
        if business_id is not None:
            values["business_id"] = business_id
        records: Sequence[Any] = await self.statement(business_id is not None).fetch(
            connection, values
        )
        if self.listed:
            records = sorted(records, key=lambda row: listing_order(row[1], row[0]))
        return [self.node(row, run) for row in records]


def _saved_cards(principal: Principal, business_id: Any, _statuses: Any) -> Select[Any]:
    return saved_cards(principal, business_id=business_id)


def _viewer_businesses(principal: Principal, _business_id: Any, _statuses: Any) -> Select[Any]:
    accounts = select(CustomerAccount.business_id).where(
        scope_condition(CustomerAccount, principal)
    )
    return readable(Business, principal).where(Business.id.in_(accounts))


def _the_session_business(principal: Principal, _business_id: Any, _statuses: Any) -> Select[Any]:
    assert isinstance(principal, PortalPrincipal)
    return readable(Business, principal).where(Business.id == principal.business_id)


Part = tuple[str, str, Any]


@dataclass
class ViewerPlan:
    """`viewer`: the session's accounts first (no accounts, no viewer), then one statement
    per list or connection asked for. When the viewer asks for nothing of its accounts, its
    first counted connection's statement also says whether there are any."""

    compiler: Compiler
    details: FieldDetailsList
    parts: list[Part] = field(init=False)
    accounts: Statement = field(init=False)
    # The connection whose statement also says whether there are accounts, when the viewer
    # asks for nothing of them: one statement fewer (the small page's three become two).
    guarded: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        compiler = self.compiler
        customer_type = compiler.object_type("Customer")
        columns = Columns(CustomerAccount)
        self._email = columns.add(CustomerAccount.email)
        self._name = columns.add(CustomerAccount.name)
        self._phone = columns.add(CustomerAccount.phone)
        self.parts = []
        for key, details in compiler.collect(customer_type, self.details).items():
            name = details[0].node.name.value
            field_def = customer_type.fields.get(name)
            if field_def is None:
                raise NotCompilable(f"Customer.{name}")
            self.parts.append((key, name, self._part(name, details, field_def, columns)))
        self.accounts = Statement.of(_statement_of(columns, viewer_accounts(compiler.stand_in)))
        if not any(name in _OF_ACCOUNTS for _, name, _ in self.parts):
            for index, (_, _, part) in enumerate(self.parts):
                plan = part[2] if isinstance(part, tuple) else None
                if isinstance(plan, ConnectionPlan) and plan.counted:
                    plan.guard = viewer_accounts(compiler.stand_in)
                    self.guarded = index
                    break

    def _part(
        self, name: str, details: FieldDetailsList, field_def: GraphQLField, columns: Columns
    ) -> Any:
        compiler = self.compiler
        if name in ("id", "email", "name", "phone", "scope", "__typename"):
            return None
        if name == "accounts":
            return compiler.node("CustomerAccount", CustomerAccount, columns, details)
        if name == "businesses":
            return ListPlan(
                compiler, "Business", Business, _viewer_businesses, details, listed=True
            )
        if name == "business":
            if not isinstance(compiler.stand_in, PortalPrincipal) or (
                compiler.stand_in.business_id is None
            ):
                return _NO_BUSINESS
            return ListPlan(compiler, "Business", Business, _the_session_business, details)
        if name == "paymentMethods":
            plan: Any = ListPlan(compiler, "PaymentMethod", PaymentMethod, _saved_cards, details)
            return field_def, details[0].node, plan
        if name in CONNECTIONS:
            type_name, model, base = CONNECTIONS[name]
            plan = ConnectionPlan(compiler, type_name, model, base, details)
            return field_def, details[0].node, plan
        raise NotCompilable(f"Customer.{name}")

    async def run(self, connection: asyncpg.Connection, run: Run) -> dict[str, Any] | None:
        principal = run.principal
        assert isinstance(principal, PortalPrincipal)
        accounts: Sequence[Any] = ()
        guarded: dict[str, Any] | None = None
        if self.guarded is None:
            accounts = await self.accounts.fetch(connection, run.values)
            if not accounts:
                return None
        else:
            field_def, node, plan = self.parts[self.guarded][2]
            guarded = await plan.run(connection, run, run.arguments(field_def, node))
            if guarded is None:
                return None
        out: dict[str, Any] = {}
        for index, (key, name, part) in enumerate(self.parts):
            if index == self.guarded:
                out[key] = guarded
            elif name == "id":
                person = customer_id(principal.email_normalized, run.secret)
                out[key] = encode_global_id("Customer", person)
            elif name == "email":
                out[key] = accounts[0][self._email]
            elif name == "name":
                out[key] = accounts[0][self._name]
            elif name == "phone":
                out[key] = next((a[self._phone] for a in accounts if a[self._phone]), None)
            elif name == "scope":
                out[key] = principal.scope.name
            elif name == "__typename":
                out[key] = "Customer"
            elif name == "accounts":
                out[key] = [part(account, run) for account in accounts]
            elif part is _NO_BUSINESS:
                out[key] = None
            elif name == "business":
                found = await part.run(connection, run, {})
                out[key] = found[0] if found else None
            elif name == "businesses":
                out[key] = await part.run(connection, run, {})
            else:
                field_def, node, plan = part
                out[key] = await plan.run(connection, run, run.arguments(field_def, node))
        return out


_NO_BUSINESS = object()
# What of the viewer is read from its accounts' rows.
_OF_ACCOUNTS = ("email", "name", "phone", "accounts")


MAX_NODES = 100
_NOT_COMPILED = object()


@dataclass
class NodesPlan:
    """`node(id)` and `nodes(ids)`: per node type, one statement of its rows in scope among
    the ids asked for. Every type is compiled with the plan; a type whose selection does not
    compile sends a request that asks for one of its ids to Strawberry."""

    compiler: Compiler
    details: FieldDetailsList
    field_def: GraphQLField
    many: bool
    per_type: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for type_name, model in NODE_MODELS.items():
            if type_name in spec.ENTITIES:
                self.per_type[type_name] = self._compile(type_name, model)

    def _compile(self, type_name: str, model: Any) -> Any:
        binders = len(self.compiler.binders)
        try:
            columns = Columns(model)
            columns.add(model.id)
            node = self.compiler.node(type_name, model, columns, self.details)
        except NotCompilable:
            # What the type's selection had bound (a nested page) goes with it: no request
            # binds arguments for a part that never runs.
            del self.compiler.binders[binders:]
            return _NOT_COMPILED
        ids = parameter("ids", ARRAY(String()))
        base = readable(model, self.compiler.stand_in).where(model.id == func.any(ids))
        return node, Statement.of(_statement_of(columns, base))

    async def run(self, connection: asyncpg.Connection, run: Run) -> Any:
        arguments = run.arguments(self.field_def, self.details[0].node)
        global_ids: list[str] = list(arguments["ids"]) if self.many else [arguments["id"]]
        if len(global_ids) > MAX_NODES:
            raise Fallback("too many ids")
        decoded_ids = [decode_global_id(global_id) for global_id in global_ids]
        wanted: dict[str, set[str]] = {}
        for decoded in decoded_ids:
            if decoded is None:
                continue
            if decoded[0] == "Customer":
                raise Fallback("the Customer node is the viewer's")
            wanted.setdefault(decoded[0], set()).add(decoded[1])
        answers: dict[tuple[str, str], Any] = {}
        for type_name, local_ids in wanted.items():
            plan = self.per_type.get(type_name)
            if plan is None:  # no node type of that name: nothing to find
                continue
            if plan is _NOT_COMPILED:
                raise Fallback(f"{type_name}'s selection does not compile")
            node, statement = plan
            values = dict(run.values)
            values["ids"] = sorted(local_ids)
            for row in await statement.fetch(connection, values):
                answers[(type_name, row[0])] = node(row, run)
        results = [answers.get(decoded) if decoded else None for decoded in decoded_ids]
        return results if self.many else results[0]


def _own_business(principal: Principal, _business_id: Any, _statuses: Any) -> Select[Any]:
    assert isinstance(principal, MerchantPrincipal)
    return readable(Business, principal).where(Business.id == principal.business_id)


@dataclass
class CurrentBusinessPlan:
    """`currentBusiness`: the business whose API key signed the request."""

    compiler: Compiler
    details: FieldDetailsList
    plan: ListPlan = field(init=False)

    def __post_init__(self) -> None:
        self.plan = ListPlan(self.compiler, "Business", Business, _own_business, self.details)

    async def run(self, connection: asyncpg.Connection, run: Run) -> Any:
        found = await self.plan.run(connection, run, {})
        return found[0] if found else None


@dataclass
class NullPlan:
    """A root field that is null for this kind of principal: `viewer` for a merchant's key,
    `currentBusiness` for a portal session."""

    compiler: Compiler

    async def run(self, connection: asyncpg.Connection, run: Run) -> None:
        return None
