"""What a key looks like and what is stored for it."""

from __future__ import annotations

import hashlib

#: New keys start with this, so secret scanners and people can tell what leaked.
KEY_PREFIX = "oc_"
#: Characters of the key kept in clear (`ApiToken.prefix`) to tell tokens apart.
PREFIX_LENGTH = 10


def key_hash(key: str) -> str:
    """What is stored for a key: its SHA-256, hex. Keys are random (160 bits or more), so no
    salt or slow hash is needed, and the hash is found through a unique index."""
    return hashlib.sha256(key.encode()).hexdigest()
