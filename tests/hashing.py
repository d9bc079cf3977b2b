"""argon2 at its lowest cost for tests that count attempts: the throttle never reads the cost, and a test that
makes a hundred failed sign-ins should not spend a minute hashing (the product keeps argon2-cffi's defaults)."""
from __future__ import annotations

from argon2 import PasswordHasher

from engine import identity


def cheap_hashing(monkeypatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(identity, "_HASHER", cheap)
    monkeypatch.setattr(identity, "_DUMMY_HASH", cheap.hash("dummy"))


def count_hashing(monkeypatch) -> list:
    """A list that grows by one for every password hash verified."""
    verified: list = []
    real = identity._verify
    monkeypatch.setattr(identity, "_verify", lambda *args: verified.append(1) or real(*args))
    return verified
