"""Signed links to documents: an invoice's PDF, fetched without a session.

A link names the invoice, when it stops working and which key signed it; the signature is
an HMAC-SHA256 over all three with a key of its own (never a session key). Keys rotate as
the session keys do: the first signs, every one verifies. Checking a link reads nothing
from the database, so its answer cannot tell whether an invoice exists.
"""

from __future__ import annotations

import base64
import enum
import hmac
import re
from datetime import datetime, timedelta
from hashlib import sha256
from urllib.parse import quote, urlencode

# A Unix time in ASCII digits only (str.isdigit also takes "²" and Arabic-Indic digits).
_EXPIRY = re.compile(r"[0-9]{1,12}")


class LinkVerdict(enum.Enum):
    VALID = "VALID"
    # Not signed by one of our keys for this invoice: altered, made up, or someone else's.
    FORBIDDEN = "FORBIDDEN"
    # Signed by us, but its time is up.
    EXPIRED = "EXPIRED"


class DocumentLinks:
    def __init__(self, keys: dict[str, str], ttl_seconds: int) -> None:
        if not keys:
            raise ValueError("at least one key")
        self._keys = {kid: secret.encode() for kid, secret in keys.items()}
        self._signing_kid = next(iter(keys))
        self.ttl = timedelta(seconds=ttl_seconds)

    def invoice_pdf_url(self, base_url: str, invoice_id: str, now: datetime) -> str:
        """A link to the invoice's PDF that works until now + the link's lifetime."""
        expires = int((now + self.ttl).timestamp())
        query = urlencode(
            {
                "expires": expires,
                "kid": self._signing_kid,
                "signature": self._sign(self._signing_kid, invoice_id, expires),
            }
        )
        return f"{base_url}/invoices/{quote(invoice_id, safe='')}.pdf?{query}"

    def check(
        self,
        invoice_id: str,
        *,
        expires: str | None,
        kid: str | None,
        signature: str | None,
        now: datetime,
    ) -> LinkVerdict:
        if not (expires and kid and signature) or not _EXPIRY.fullmatch(expires):
            return LinkVerdict.FORBIDDEN
        if kid not in self._keys:
            return LinkVerdict.FORBIDDEN
        expected = self._sign(kid, invoice_id, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return LinkVerdict.FORBIDDEN
        if now.timestamp() >= int(expires):
            return LinkVerdict.EXPIRED
        return LinkVerdict.VALID

    def _sign(self, kid: str, invoice_id: str, expires: int) -> str:
        message = b"\0".join((b"invoice-pdf", kid.encode(), invoice_id.encode(), b"%d" % expires))
        digest = hmac.new(self._keys[kid], message, sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
