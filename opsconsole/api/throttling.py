"""Request rates of the /system API, counted in the shared cache so every process sees one count.

Writes and reads have their own per-user budget (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
from OPSCONSOLE_API_THROTTLE_WRITE / _READ). Failed credentials are counted per client
address (OPSCONSOLE_API_AUTH_FAILURE_LIMIT). `client_ip` is the one rule for "which address
is the client" that the throttles and the admin login lockout (django-axes) share.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind OPSCONSOLE_NUM_PROXIES trusted proxies the
    address the outermost of them appended to X-Forwarded-For (what a client sends is ignored)."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = int(api_settings.NUM_PROXIES or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


def count_in_window(key: str, window_seconds: int) -> tuple[int, float]:
    """Add one to a fixed-window counter in the shared cache; return (count, seconds left in the window).

    One atomic increment per request on Redis (DRF's own throttles read and rewrite a list of
    every request's timestamp). A fixed window may let through up to twice the rate across a
    window boundary, which is fine for a brake on abuse.
    """
    now = time.time()
    window = int(now // window_seconds)
    full_key = f"{key}:{window}"
    if cache.add(full_key, 1, timeout=window_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(full_key)
        except ValueError:  # expired between add and incr
            cache.set(full_key, 1, timeout=window_seconds + 1)
            count = 1
    return count, (window + 1) * window_seconds - now


class _MethodRateThrottle(SimpleRateThrottle):
    """Per authenticated user (by id), per client address otherwise; only the methods it governs."""

    scope: str
    writes: bool

    def get_rate(self) -> str | None:
        # Read on every request (DRF's own copies the rates once at import): override_settings works.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return rate or None

    def get_cache_key(self, request, view) -> str | None:
        if (request.method not in SAFE_METHODS) != self.writes:
            return None
        user = getattr(request, "user", None)
        ident = f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{client_ip(request)}"
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request, view) -> bool:
        self._wait: float | None = None
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, left = count_in_window(key, self.duration)
        if count > self.num_requests:
            self._wait = left
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


class WriteRateThrottle(_MethodRateThrottle):
    """POST, PUT, PATCH, DELETE: OPSCONSOLE_API_THROTTLE_WRITE per user."""

    scope = "write"
    writes = True


class ReadRateThrottle(_MethodRateThrottle):
    """GET, HEAD, OPTIONS: OPSCONSOLE_API_THROTTLE_READ per user."""

    scope = "read"
    writes = False


AUTH_FAILURE_WINDOW_SECONDS = 600


def auth_failure_record(request: Any) -> int | None:
    """Count a request whose credentials were refused; past the limit return the seconds to wait.

    Per client address, in 10-minute windows (OPSCONSOLE_API_AUTH_FAILURE_LIMIT; 0 turns it off).
    Tokens are too long to guess, but a client retrying a revoked or mistyped token in a loop is
    told to stop (429 + Retry-After) instead of getting an endless stream of 401s.
    """
    limit = int(getattr(settings, "OPSCONSOLE_API_AUTH_FAILURE_LIMIT", 0) or 0)
    if limit <= 0 or request is None:
        return None
    address = client_ip(request)
    count, left = count_in_window(f"throttle:auth-failure:ip:{address}", AUTH_FAILURE_WINDOW_SECONDS)
    if count <= limit:
        return None
    if count == limit + 1:
        logger.warning("API: %d failed authentications from %s within 10 minutes", count, address)
    return max(1, math.ceil(left))
