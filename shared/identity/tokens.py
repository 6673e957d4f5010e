"""Short-lived signed tokens (JWT, EdDSA over Ed25519): workflow signs, every service verifies.

The keys are a JSON Web Key Set in a file (SCRM_TOKEN_KEYS): the first key signs, every key
verifies, so rotating is adding a new key in front and, once the tokens it signed have expired,
dropping the old one (`scrm identity keys rotate` / `retire`). A service that only verifies may
be given the public half alone. `scrm run` makes the file under the data folder on first start.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shared.identity.principal import Principal, scopes_of_roles

ISSUER = "scrm/workflow"
AUDIENCE = "scrm"
LIFETIME = 15 * 60  # seconds: a stolen token is worth little for long
LEEWAY = 30  # seconds of clock difference between services
VERIFIED_KEPT = 10_000  # tokens whose signature was checked: a staff member sends theirs on every request


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class KeySet:
    keys: tuple[dict[str, Any], ...]  # JWKs, the signing key first
    # token -> its claims: a signature checks the same every time (~0.3 ms each); the expiry is looked at again
    _verified: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    _keeping: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path) -> KeySet:
        return cls(tuple(json.loads(path.read_text())["keys"]))

    @classmethod
    def generate(cls) -> KeySet:
        return cls((_new_key(),))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"keys": list(self.keys)}, indent=2))
        os.chmod(temporary, 0o600)  # private keys: for the owner only
        temporary.replace(path)

    def rotated(self) -> KeySet:
        return KeySet((_new_key(), *self.keys))

    def without(self, kid: str) -> KeySet:
        if self.keys[0]["kid"] == kid:
            raise ValueError("the signing key (the first) cannot be retired; rotate first")
        if all(k["kid"] != kid for k in self.keys):
            raise ValueError(f"no key {kid!r}")
        return KeySet(tuple(k for k in self.keys if k["kid"] != kid))

    def public(self) -> KeySet:
        return KeySet(tuple({k: v for k, v in key.items() if k != "d"} for key in self.keys))

    def sign(self, principal: Principal, lifetime: int = LIFETIME, **extra: Any) -> str:
        key = self.keys[0]
        if "d" not in key:
            raise InvalidToken("these keys can verify tokens but not sign them")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal.subject,
            "tenant": principal.tenant,
            "roles": list(principal.roles),
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(12),
            **extra,
        }
        return jwt.encode(
            claims, OKPAlgorithm.from_jwk(json.dumps(key)), algorithm="EdDSA", headers={"kid": key["kid"]}
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if one of these keys signed it and it is current; InvalidToken otherwise."""
        claims = self._verified.get(token)
        if claims is not None and time.time() <= claims["exp"] + LEEWAY:
            return dict(claims)
        claims = self._check(token)
        with self._keeping:
            if len(self._verified) >= VERIFIED_KEPT:  # the oldest checked go first
                del self._verified[next(iter(self._verified))]
            self._verified[token] = claims
        return dict(claims)

    def _check(self, token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self.keys if k["kid"] == kid), None)
            if key is None:
                raise InvalidToken("signed by a key this service does not know")
            public = {k: v for k, v in key.items() if k != "d"}
            return jwt.decode(
                token,
                OKPAlgorithm.from_jwk(json.dumps(public)),
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "sub", "tenant"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None


def principal_of(claims: dict[str, Any]) -> Principal:
    roles = tuple(str(r) for r in claims.get("roles", ()))
    return Principal(
        tenant=claims["tenant"], subject=claims["sub"], kind="staff", roles=roles, scopes=scopes_of_roles(roles)
    )


def _new_key() -> dict[str, Any]:
    jwk = json.loads(OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate()))
    return {**jwk, "kid": secrets.token_hex(8), "alg": "EdDSA", "use": "sig"}
