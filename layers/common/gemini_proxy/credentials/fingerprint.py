"""The one way a secret is named anywhere outside the place that uses it."""

import hashlib


def fingerprint(secret: str) -> str:
    """First 12 hex digits of the secret's SHA-256: stable, short, and not reversible."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]
