"""API keys of Open311 client applications: issued (shown once, kept hashed), looked up, revoked.
The only writes of Open311Client rows."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from wangge.history.actions import record_change
from wangge.history.models import ChangeAction

from .models import Open311Client

KEY_BYTES = 24


def hash_key(key: str) -> str:
    # A random 192-bit key needs no slow hash: sha256 cannot be reversed and is looked up by index.
    return hashlib.sha256(key.encode()).hexdigest()


def _snapshot(client: Open311Client) -> dict:
    return {
        "name": client.name,
        "key_prefix": client.key_prefix,
        "rate_per_minute": client.rate_per_minute,
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


def issue_key(name: str, user=None, *, rate_per_minute: int = 60) -> tuple[Open311Client, str]:
    """A new client application and its key (the key is returned here only, never stored clear)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("name")
    key = secrets.token_urlsafe(KEY_BYTES)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name,
            key_hash=hash_key(key),
            key_prefix=key[:8],
            rate_per_minute=rate_per_minute,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        record_change(client, ChangeAction.CREATE, acting_user=user, after=_snapshot(client))
    return client, key


def revoke_key(client: Open311Client, user=None) -> Open311Client:
    with transaction.atomic():
        client = Open311Client.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at is None:
            before = _snapshot(client)
            client.revoked_at = timezone.now()
            client.save(update_fields=["revoked_at"])
            record_change(client, ChangeAction.UPDATE, acting_user=user, before=before, after=_snapshot(client))
    return client


def client_for(key: str) -> Open311Client | None:
    """The client application of a key, revoked or not (None: no such key)."""
    if not key or len(key) > 200:
        return None
    return Open311Client.objects.filter(key_hash=hash_key(key)).first()
