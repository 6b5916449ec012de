"""Secrets at rest (OAuth tokens of ERP connections): Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from the `SEVERA_FIELD_KEY` setting (environment variable), or, when that is
empty, is derived from `SECRET_KEY`. Values encrypted under `SECRET_KEY` stay readable after
`SEVERA_FIELD_KEY` is set (MultiFernet tries every key), and new values are encrypted with
the first key; `field_reencrypt` moves a value to the current key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key."""


def _key(material: str) -> bytes:
    # Any string can be a key: SHA-256 of it, with a label so that the same SECRET_KEY gives
    # a different key here than anywhere else it is hashed.
    digest = hashlib.sha256(b"severa.integrations.field-key:" + material.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    keys = [settings.SEVERA_FIELD_KEY, settings.SECRET_KEY]
    return MultiFernet([Fernet(_key(key)) for key in keys if key])


def field_encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def field_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("The stored secret cannot be decrypted with the keys set.") from error


def field_reencrypt(token: str) -> str:
    return _fernet().rotate(token.encode()).decode() if token else ""
