"""Card brands: what a processor reports of a saved card, what is stored and shown.

Here rather than among the models' enums because the processor interface speaks of
cards too, and it knows nothing of our tables.
"""

from __future__ import annotations

import enum
import re


class CardBrand(enum.Enum):
    VISA = "VISA"
    MASTERCARD = "MASTERCARD"
    AMEX = "AMEX"
    DISCOVER = "DISCOVER"
    JCB = "JCB"
    DINERS = "DINERS"
    UNIONPAY = "UNIONPAY"
    UNKNOWN = "UNKNOWN"

    @property
    def display_name(self) -> str:
        """As a card's brand is written for people (in every language)."""
        return _DISPLAY_NAMES.get(self.value, self.value.title())


_DISPLAY_NAMES = {
    "MASTERCARD": "Mastercard",
    "AMEX": "American Express",
    "JCB": "JCB",
    "DINERS": "Diners Club",
    "UNIONPAY": "UnionPay",
    "UNKNOWN": "",
}


# Twelve or more digits, alone or in groups split by single spaces or dashes: what a card
# number (a PAN) looks like however it was typed. No processor token looks like that.
_CARD_NUMBER = re.compile(r"(?:\d[ -]?){11}\d")


def looks_like_card_number(text: str) -> bool:
    """Whether `text` holds what may be a card number: such input is refused, and never
    stored, logged or echoed."""
    return _CARD_NUMBER.search(text) is not None
