"""Access tokens: HS256 JWTs (joserfc) that name a portal session.

The algorithm is pinned, the `kid` picks the key from a set (so keys rotate
without signing everyone out), and the claims are validated after decoding,
because decoding alone accepts an expired token.
"""

from __future__ import annotations

from datetime import datetime

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from portal_gateway.core import clock
from portal_gateway.core.errors import AccessError

ALGORITHM = "HS256"
ISSUER = "portal-gateway"
AUDIENCE = "portal"


class AccessTokens:
    def __init__(self, keys: dict[str, str]) -> None:
        """`keys`: kid -> secret; the first one signs, all of them verify."""
        self._signing_kid = next(iter(keys))
        self._keys = {kid: OctKey.import_key(secret, {"kid": kid}) for kid, secret in keys.items()}
        self._key_set = KeySet(list(self._keys.values()))

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
        try:
            decoded = jwt.decode(token, self._key_set, algorithms=[ALGORITHM])
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(clock.now().timestamp()),
                iss={"essential": True, "value": ISSUER},
                aud={"essential": True, "value": AUDIENCE},
                sub={"essential": True},
                exp={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            raise AccessError("UNAUTHENTICATED", "Invalid or expired access token.") from None
        if decoded.header.get("kid") not in self._keys:
            raise AccessError("UNAUTHENTICATED", "Invalid or expired access token.")
        return str(decoded.claims["sub"])
