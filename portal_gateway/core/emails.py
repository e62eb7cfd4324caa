"""Email addresses: the one canonical form every match uses, and the look-alikes refused.

A business controls the addresses it stores; only a link sent to an address proves it. So
two addresses match only when they are the same mailbox by the rules mail servers keep:
the domain in its IDNA (punycode) form, lower-cased (DNS ignores case), and an ASCII local
part lower-cased (as good as every server does). A non-ASCII local part is compared exactly
as given, and one that Unicode normalization or case folding would change (KELVIN SIGN,
ligatures, full-width letters) is refused outright: `\\u212aate@example.com` must never match
`kate@example.com`, whichever side types it. (email-validator's own normalization turns
that KELVIN SIGN into an ASCII K, so only its syntax check and its domain are used.)
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email


class InvalidEmailAddress(ValueError):
    """Not an address, or a look-alike of another."""


def canonical_email(raw: str) -> str:
    """The canonical form of a well-formed address; InvalidEmailAddress otherwise."""
    local, domain = _parts(raw)
    if local.isascii():
        return f"{local.lower()}@{domain}"
    if unicodedata.normalize("NFKC", local) != local or local.casefold() != local:
        raise InvalidEmailAddress(
            "This address has letters that read as others once normalized or lower-cased "
            "(a Kelvin sign for K, a ligature, a full-width or capital letter outside ASCII)."
        )
    return f"{local}@{domain}"


def match_key(raw: str) -> str:
    """What a lookup compares an address by: its canonical form; for a look-alike, its local
    part exactly as given (so it never matches the address it imitates); for what is no
    address, the text as given. A filter argument, and the migration of rows stored before
    this rule, use it; an address that is being stored or mailed must be canonical."""
    try:
        return canonical_email(raw)
    except InvalidEmailAddress:
        try:
            local, domain = _parts(raw)
        except InvalidEmailAddress:
            return raw.strip()
        return f"{local}@{domain}"


def _parts(raw: str) -> tuple[str, str]:
    """(the local part as typed, the domain in lower-case IDNA form) of a well-formed
    address. Addresses that mail servers deliver though RFC 5322 does not allow them (a
    Japanese carrier's taro..yamada@docomo.ne.jp, a company's name@corp.local) keep the
    plain ASCII shape this service always took."""
    address = raw.strip()
    if not address.isprintable():
        raise InvalidEmailAddress("An address has no control characters.")
    try:
        valid = validate_email(address, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as error:
        if address.isascii() and _PLAIN.match(address):
            local, _, domain = address.rpartition("@")
            return local, domain.lower()
        raise InvalidEmailAddress(str(error)) from None
    if "." not in valid.ascii_domain:  # a@b: no domain anyone's mail reaches
        raise InvalidEmailAddress("The part after the @-sign must have a dot.")
    return address.rpartition("@")[0], valid.ascii_domain.lower()


# One @, a dot in the domain, no spaces: what the service took before it used email-validator.
_PLAIN = re.compile(
    r"^[^@\s]{1,64}@(?=.{1,255}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
