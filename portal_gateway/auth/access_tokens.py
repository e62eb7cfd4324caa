"""Access tokens: HS256 JWTs (joserfc) that name a portal session.

The algorithm is pinned, the `kid` picks the key from a set (so keys rotate
without signing everyone out), and the claims are validated after decoding,
because decoding alone accepts an expired token.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from portal_gateway.core import clock
from portal_gateway.core.errors import AccessError

ALGORITHM = "HS256"
ISSUER = "portal-gateway"
AUDIENCE = "portal"
# Tokens whose signature checked out, remembered with their claims: a portal sends the same
# token with every request, and checking the signature again is a third of the sign-in
# check's time. Their claims (the expiry above all) are still validated on every use.
VERIFIED_TOKENS = 4096


class AccessTokens:
    def __init__(self, keys: dict[str, str]) -> None:
        """`keys`: kid -> secret; the first one signs, all of them verify."""
        self._signing_kid = next(iter(keys))
        self._keys = {kid: OctKey.import_key(secret, {"kid": kid}) for kid, secret in keys.items()}
        self._key_set = KeySet(list(self._keys.values()))
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._registry = jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            sub={"essential": True},
            exp={"essential": True},
        )

    def issue(self, session_id: str, expires_at: datetime) -> str:
        now = clock.now()
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": session_id,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        header = {"alg": ALGORITHM, "kid": self._signing_kid}
        return jwt.encode(header, claims, self._keys[self._signing_kid], algorithms=[ALGORITHM])

    def verify(self, token: str) -> str:
        """The session id in a valid, unexpired token; UNAUTHENTICATED otherwise."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._signed_claims(token)
            self._verified[token] = claims
            if len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        try:
            self._registry.validate(claims)
        except (JoseError, ValueError, TypeError):
            raise AccessError("UNAUTHENTICATED", "Invalid or expired access token.") from None
        return str(claims["sub"])

    def _signed_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token signed with one of our keys, not yet validated."""
        try:
            decoded = jwt.decode(token, self._key_set, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError):
            raise AccessError("UNAUTHENTICATED", "Invalid or expired access token.") from None
        if decoded.header.get("kid") not in self._keys:
            raise AccessError("UNAUTHENTICATED", "Invalid or expired access token.")
        return decoded.claims
