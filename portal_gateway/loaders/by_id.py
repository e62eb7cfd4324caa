"""`<Model>ByIdLoader`s: one scoped `IN` query per batch, None for what is out of scope."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

from portal_gateway.auth.principal import Principal
from portal_gateway.loaders.reader import Reader
from portal_gateway.queries.readable import readable

M = TypeVar("M")


class ByIdLoader(DataLoader[str, M | None], Generic[M]):
    def __init__(self, reader: Reader, principal: Principal, model: type[M]) -> None:
        super().__init__()
        self._reader = reader
        self._principal = principal
        self._model = model

    async def batch_load_fn(self, ids: list[str]) -> list[M | None]:
        model: Any = self._model
        rows = await self._reader.scalars(
            readable(model, self._principal).where(model.id.in_(set(ids)))
        )
        by_id = {row.id: row for row in rows}
        return [by_id.get(row_id) for row_id in ids]
