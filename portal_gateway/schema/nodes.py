"""Node types: objects with a global id, each wrapping one row.

A node type is registered with `node_type`, which pairs it with the table that
`loaders.NODE_MODELS` names for it: the one list of node types. `wrap` then turns any
such row into its GraphQL object, so a type refers to another only by name (lazily),
never by importing it. Fields read from the row through `column`, `money` and
`relation` instead of a getter each.
"""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry
from strawberry.types.base import get_object_definition

from portal_gateway.core.ids import encode_global_id
from portal_gateway.loaders import NODE_MODELS
from portal_gateway.schema.context import Info
from portal_gateway.schema.values import Money

T = TypeVar("T", bound=type)

_TYPE_OF_ROW: dict[type, type] = {}
_NAME_OF_TYPE: dict[type, str] = {}


@strawberry.interface
class Node:
    """An object with an opaque global id, fetchable with `node(id:)`."""

    row: strawberry.Private[Any]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(self)


def global_id(node: Node) -> strawberry.ID:
    """Base64 of "<type name>:<row id>"."""
    return strawberry.ID(encode_global_id(_NAME_OF_TYPE[type(node)], node.row.id))


def node_type(cls: T, *, wraps: type | None = None) -> T:
    """Register a node type for the rows of its table (or of `wraps`)."""
    name = get_object_definition(cls, strict=True).name
    _TYPE_OF_ROW[wraps or NODE_MODELS[name]] = cls
    _NAME_OF_TYPE[cls] = name
    return cls


def node_types() -> list[type]:
    return list(_NAME_OF_TYPE)


def wrap(row: Any) -> Any:
    """The GraphQL object around a row of any node type's table."""
    return _TYPE_OF_ROW[type(row)](row=row)


def wrap_optional(row: Any | None) -> Any | None:
    return wrap(row) if row is not None else None


async def related(info: Info, type_name: str, row_id: str | None) -> Any | None:
    """The node `row_id` of `type_name` through the request's loader; None when the id is
    unset or the row is out of scope."""
    if row_id is None:
        return None
    return wrap_optional(await info.context.loaders.by_type[type_name].load(row_id))


def column(attribute: str, *, description: str | None = None) -> Any:
    """A field that is the wrapped row's `attribute`, as stored."""

    def resolve(self: Any) -> Any:
        return getattr(self.row, attribute)

    return strawberry.field(resolver=resolve, description=description)


def money(amount: str, *, description: str | None = None) -> Any:
    """A Money field from the row's minor-unit `amount` and its `currency`."""

    def resolve(self: Any) -> Money:
        return Money.of(getattr(self.row, amount), self.row.currency)

    return strawberry.field(resolver=resolve, description=description)


def relation(type_name: str, id_attribute: str, *, required: bool = False) -> Any:
    """A field that is the node whose id the row keeps in `id_attribute`. `required`: an
    object in scope always has it in scope too, so its absence is a bug, not a null."""

    async def resolve(self: Any, info: Info) -> Any:
        row_id = getattr(self.row, id_attribute)
        node = await related(info, type_name, row_id)
        if node is None and required:
            raise LookupError(f"{type_name} {row_id} of an object in scope is not in scope")
        return node

    return strawberry.field(resolver=resolve)
