"""Card brands: what a processor reports of a saved card, what is stored and shown.

Here rather than among the models' enums because the processor interface speaks of
cards too, and it knows nothing of our tables.
"""

from __future__ import annotations

import enum
import re
import unicodedata


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


# Twelve or more digits, however they are grouped: with any few characters that are neither
# letters nor digits between them (spaces of any kind, dots, dashes, underscores). No
# processor token looks like that. Digits of any script count; NFKC folds full-width ones.
_CARD_NUMBER = re.compile(r"(?:\d[\W_]{0,3}){11}\d")


def looks_like_card_number(text: str) -> bool:
    """Whether `text` holds what may be a card number: such input is refused, and never
    stored, logged or echoed."""
    return _CARD_NUMBER.search(unicodedata.normalize("NFKC", text)) is not None
