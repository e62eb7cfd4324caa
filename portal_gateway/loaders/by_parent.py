"""Loaders of the rows that belong to a parent, one scoped query per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, func, select

from portal_gateway.auth.principal import Principal
from portal_gateway.auth.scope import scope_condition, scoped
from portal_gateway.loaders.pagination import Page, PageRequest, newest_first, older_than
from portal_gateway.loaders.reader import Reader
from portal_gateway.models import (
    CreditBalance,
    Invoice,
    InvoiceLine,
    LicenseKey,
    Payment,
    Product,
)
from portal_gateway.queries.payments import settling_first

M = TypeVar("M")


class _ByParentLoader(DataLoader[str, list[Any]]):
    def __init__(self, reader: Reader, principal: Principal) -> None:
        super().__init__()
        self._reader = reader
        self._principal = principal

    @staticmethod
    def _group(rows: Sequence[Any], parent_ids: list[str], key: str) -> list[list[Any]]:
        grouped: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, key)].append(row)
        return [grouped.get(parent_id, []) for parent_id in parent_ids]


class LinesByInvoiceIdLoader(_ByParentLoader):
    async def batch_load_fn(self, invoice_ids: list[str]) -> list[list[Any]]:
        stmt = (
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.invoice_id.in_(set(invoice_ids)))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        rows = await self._reader.scalars(scoped(stmt, Invoice, self._principal))
        return self._group(rows, invoice_ids, "invoice_id")


class ProductsByCollectionIdLoader(_ByParentLoader):
    async def batch_load_fn(self, collection_ids: list[str]) -> list[list[Any]]:
        stmt = select(Product).where(Product.collection_id.in_(set(collection_ids)))
        stmt = scoped(stmt, Product, self._principal).order_by(Product.position, Product.id)
        return self._group(await self._reader.scalars(stmt), collection_ids, "collection_id")


class LicenseKeysByPurchaseIdLoader(_ByParentLoader):
    async def batch_load_fn(self, purchase_ids: list[str]) -> list[list[Any]]:
        stmt = select(LicenseKey).where(LicenseKey.purchase_id.in_(set(purchase_ids)))
        stmt = scoped(stmt, LicenseKey, self._principal).order_by(*newest_first(LicenseKey))
        return self._group(await self._reader.scalars(stmt), purchase_ids, "purchase_id")


class CreditBalancesByAccountIdLoader(_ByParentLoader):
    async def batch_load_fn(self, account_ids: list[str]) -> list[list[Any]]:
        stmt = select(CreditBalance).where(
            CreditBalance.account_id.in_(set(account_ids)), CreditBalance.amount_minor != 0
        )
        stmt = scoped(stmt, CreditBalance, self._principal).order_by(CreditBalance.currency)
        return self._group(await self._reader.scalars(stmt), account_ids, "account_id")


class PaymentByInvoiceIdLoader(DataLoader[str, Payment | None]):
    """The payment that settled an invoice (the latest successful one, else the latest)."""

    def __init__(self, reader: Reader, principal: Principal) -> None:
        super().__init__()
        self._reader = reader
        self._principal = principal

    async def batch_load_fn(self, invoice_ids: list[str]) -> list[Payment | None]:
        rank = (
            func.row_number()
            .over(partition_by=Payment.invoice_id, order_by=settling_first(Payment))
            .label("rank")
        )
        ranked = scoped(
            select(Payment.id, rank).where(Payment.invoice_id.in_(set(invoice_ids))),
            Payment,
            self._principal,
        ).subquery()
        stmt = select(Payment).join(ranked, ranked.c.id == Payment.id).where(ranked.c.rank == 1)
        chosen = {payment.invoice_id: payment for payment in await self._reader.scalars(stmt)}
        return [chosen.get(invoice_id) for invoice_id in invoice_ids]


PageKey = tuple[str, PageRequest]


class PageByParentLoader(DataLoader[PageKey, Page[M]], Generic[M]):
    """Pages of many parents' children (a subscription's invoices, an account's
    subscriptions): one statement of rows per distinct page asked for (a window per parent,
    cut at that page's size after that page's cursor), and one of counts. Two aliases of one
    connection with different pages each get their own window; a shared one would let the
    first page's rows crowd out the second's."""

    def __init__(
        self, reader: Reader, principal: Principal, model: type[M], parent_key: str
    ) -> None:
        super().__init__()
        self._reader = reader
        self._principal = principal
        self._model: Any = model
        self._parent_key = parent_key

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Page[M]]:
        parents_by_page: dict[PageRequest, set[str]] = defaultdict(set)
        for parent_id, page in keys:
            parents_by_page[page].add(parent_id)
        rows: dict[PageKey, list[M]] = defaultdict(list)
        for page, parent_ids in parents_by_page.items():
            for row in await self._rows(parent_ids, page):
                rows[(getattr(row, self._parent_key), page)].append(row)
        counts = await self._counts({parent_id for parent_id, _ in keys})
        return [self._page(rows[key], key[1], counts.get(key[0], 0)) for key in keys]

    async def _rows(self, parent_ids: set[str], page: PageRequest) -> Sequence[M]:
        model = self._model
        parent = getattr(model, self._parent_key)
        conditions: list[ColumnElement[bool]] = [parent.in_(parent_ids)]
        if page.after is not None:
            conditions.append(older_than(model, page.after))
        position = (
            func.row_number()
            .over(partition_by=parent, order_by=newest_first(model))
            .label("position")
        )
        numbered = scoped(
            select(model.id, position).where(*conditions), model, self._principal
        ).subquery()
        stmt: Select[Any] = (
            select(model)
            .join(numbered, numbered.c.id == model.id)
            .where(numbered.c.position <= page.first + 1)
            .order_by(*newest_first(model))
        )
        return await self._reader.scalars(stmt)

    async def _counts(self, parent_ids: set[str]) -> dict[str, int]:
        model = self._model
        parent = getattr(model, self._parent_key)
        stmt = (
            select(parent, func.count())
            .where(parent.in_(parent_ids), scope_condition(model, self._principal))
            .group_by(parent)
        )
        return {row[0]: int(row[1]) for row in await self._reader.rows(stmt)}

    @staticmethod
    def _page(rows: list[M], page: PageRequest, total: int) -> Page[M]:
        async def count() -> int:
            return total

        return Page(
            rows=rows[: page.first],
            has_next_page=len(rows) > page.first,
            has_previous_page=page.after is not None,
            count=count,
        )
