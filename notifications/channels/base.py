"""The one interface every channel type implements, and what crosses it."""

from __future__ import annotations

import contextlib
import http.client
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifications.channels.network import GuardedHttpClient, HttpAnswer, guarded_http_client
from notifications.delivery import policy
from notifications.exceptions import UnsafeTarget

EXCERPT_LIMIT = 1024
#: What the API shows in place of a credential held in a target or config.
REDACTED = "********"
#: Why a credential stored for one destination is not carried to another.
MOVED_REFUSAL = (
    "the target's destination (scheme, host or port) changed: stored credentials are never sent "
    "to a new destination; give the value again"
)


@dataclass(frozen=True)
class ChannelSnapshot:
    """What a backend needs of a channel; plain data, so worker threads never touch the ORM."""

    id: int
    name: str
    channel_type: str
    target: str
    config: dict[str, Any]
    secret: str = field(repr=False, default="")
    #: The secret before the last rotation, which signs too until `previous_secret_expires_at`.
    previous_secret: str = field(repr=False, default="")
    previous_secret_expires_at: datetime | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery made at `now`: the current one, and the previous one in its grace."""
        keys = [self.secret] if self.secret else []
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            keys.append(self.previous_secret)
        return keys


@dataclass(frozen=True)
class OutgoingMessage:
    outbox_id: int
    message_id: str
    subject: str
    body: str
    payload: dict[str, Any] | None
    created_at: datetime
    attempt_number: int
    channel: ChannelSnapshot


@dataclass(frozen=True)
class DeliveryReport:
    """A successful delivery."""

    http_status: int | None = None
    response_excerpt: str = ""


class DeliveryContext:
    """Resources shared by the deliveries of one dispatch run: an HTTP client, SMTP connections.

    Thread-safe: the HTTP client keeps connections alive for all threads; per-thread resources
    (an SMTP connection cannot be shared) are kept per thread and closed together.
    """

    def __init__(self, *, max_connections: int = 20) -> None:
        self._max_connections = max_connections
        self._lock = threading.Lock()
        self._http: GuardedHttpClient | None = None
        self._local = threading.local()
        self._closers: list[Callable[[], Any]] = []

    @property
    def http(self) -> GuardedHttpClient:
        with self._lock:
            if self._http is None:
                self._http = guarded_http_client(max_keepalive=self._max_connections)
            return self._http

    def thread_resource(self, key: str, factory: Callable[[], Any], closer: Callable[[Any], Any]) -> Any:
        resources = self._local.__dict__.setdefault("resources", {})
        if key not in resources:
            resource = factory()
            resources[key] = resource
            with self._lock:
                self._closers.append(lambda: closer(resource))
        return resources[key]

    def drop_thread_resource(self, key: str) -> None:
        self._local.__dict__.setdefault("resources", {}).pop(key, None)

    def close(self) -> None:
        with self._lock:
            closers, self._closers = self._closers, []
            http, self._http = self._http, None
        for close in closers:
            with contextlib.suppress(OSError):  # the peer already went away; nothing left to release
                close()
        if http is not None:
            http.close()

    def __enter__(self) -> DeliveryContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ChannelBackend(ABC):
    """One channel type. Subclasses implement `send`; `clean_target`/`clean_config` validate input.

    `send` returns a DeliveryReport on success and raises RetryableDeliveryError,
    PermanentDeliveryError or ChannelGone otherwise.
    """

    channel_type: str
    #: config keys this type understands; anything else is refused at creation.
    config_keys: frozenset[str] = frozenset()
    #: whether the channel signs with a server-generated secret.
    uses_secret: bool = False

    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        """Return the normalised target or raise ValueError with the reason."""
        target = (target or "").strip()
        if not target:
            raise ValueError("This field may not be blank.")
        return target

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(config) - self.config_keys)
        if unknown:
            allowed = ", ".join(sorted(self.config_keys)) or "none"
            raise ValueError(f"Unknown keys {', '.join(unknown)} for this channel type (allowed: {allowed}).")
        return config

    def redact_target(self, target: str) -> str:
        """The target as the API shows it, credentials replaced by REDACTED (identity by default)."""
        return target

    def redact_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as the API shows it, credentials replaced by REDACTED (identity by default)."""
        return config

    def destination(self, target: str) -> tuple[str, ...]:
        """Where deliveries to `target` go; stored credentials are only ever sent there.

        URL targets answer (scheme, host, port); the default is the whole target.
        """
        return (target,)

    def unredact_target(self, new: str, current: str) -> str:
        """A client that sends back the redacted target it read means "unchanged".

        Raises ValueError when `new` holds REDACTED that cannot stand for a stored credential.
        """
        return current if new == self.redact_target(current) else new

    def unredact_config(self, new: dict[str, Any], current: dict[str, Any], *, moved: bool) -> dict[str, Any]:
        """Config values sent back as REDACTED keep their stored value, unless the target `moved`
        to another destination: then raise ValueError naming them (see `config_credentials`)."""
        return new

    def config_credentials(self, config: dict[str, Any]) -> list[str]:
        """Dotted names of the credentials a stored config holds (those the API shows as REDACTED)."""
        return []

    @abstractmethod
    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport: ...


def excerpt(text: str) -> str:
    return text[:EXCERPT_LIMIT]


def outcome_of_response(response: HttpAnswer) -> DeliveryReport:
    """A DeliveryReport for an answer the policy calls sent; otherwise raise its DeliveryError."""
    body = excerpt(response.text)
    ruling = policy.http_ruling(
        response.status_code,
        retry_after=response.headers.get("Retry-After"),
        location=response.headers.get("Location"),
    )
    if ruling.verdict != policy.Verdict.SENT:
        raise policy.delivery_error(ruling, http_status=response.status_code, response_excerpt=body)
    return DeliveryReport(http_status=response.status_code, response_excerpt=body)


def post_json(context: DeliveryContext, url: str, content: bytes, headers: dict[str, str]) -> DeliveryReport:
    """POST through the guarded client; an error before any answer is ruled on by the policy."""
    try:
        response = context.http.post(url, content=content, headers={"Content-Type": "application/json", **headers})
    except (UnsafeTarget, OSError, http.client.HTTPException, ValueError) as exc:
        raise policy.delivery_error(policy.transport_ruling(exc)) from exc
    return outcome_of_response(response)
