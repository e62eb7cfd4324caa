"""Card brands: what a processor reports of a saved card, what is stored and shown.

Here rather than among the models' enums because the processor interface speaks of
cards too, and it knows nothing of our tables.
"""

from __future__ import annotations

import enum


class CardBrand(enum.Enum):
    VISA = "VISA"
    MASTERCARD = "MASTERCARD"
    AMEX = "AMEX"
    DISCOVER = "DISCOVER"
    JCB = "JCB"
    DINERS = "DINERS"
    UNIONPAY = "UNIONPAY"
    UNKNOWN = "UNKNOWN"
