"""The served schema is the committed schema.graphql, and it carries the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema as build_sdl
from graphql import find_breaking_changes

from portal_gateway.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[1]
# The contract as this repository last took it from ../shared, kept here so that every clone
# (CI's included) checks it; test_the_contract_copy_is_current says when shared/ moved on.
CONTRACT = Path(__file__).with_name("api-contract.graphql")
SHARED_CONTRACT = ROOT.parent / "shared" / "api-contract.graphql"


def test_schema_file_matches_served_schema() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), (
        "schema.graphql differs from the served schema; regenerate it with "
        "`portal-gateway schema export` and review the change"
    )


def test_schema_file_starts_with_explicit_roots() -> None:
    """A type named Subscription must not be read as the subscription root."""
    text = (ROOT / "schema.graphql").read_text()
    assert text.startswith("schema {\n  query: Query\n  mutation: Mutation\n}")
    assert build_sdl(text).subscription_type is None


# What the contract has that later issues build. Each issue deletes its lines here when it
# serves them; the list only shrinks.
OWNED_BY_LATER_ISSUES: set[str] = set()


def test_contract_is_served_but_for_what_later_issues_own() -> None:
    contract = build_sdl(CONTRACT.read_text())
    served = build_sdl(schema_sdl())
    missing = {change.description for change in find_breaking_changes(contract, served)}
    assert missing <= OWNED_BY_LATER_ISSUES, sorted(missing - OWNED_BY_LATER_ISSUES)


def test_the_contract_copy_is_current() -> None:
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"no shared contract at {SHARED_CONTRACT} to compare the copy with")
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text(), (
        f"the contract moved on: copy {SHARED_CONTRACT} to {CONTRACT}, then serve or own "
        "what it adds"
    )
