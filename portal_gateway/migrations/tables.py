"""Every table the migrations build: the models', and the test processor's ledger, which
lives beside the test processor rather than among the models."""

from __future__ import annotations

from portal_gateway.models import Base
from portal_gateway.payments import test_processor  # noqa: F401  (declares its ledger table)

metadata = Base.metadata
