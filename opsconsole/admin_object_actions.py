"""Buttons on a change page (django-object-actions), held to the rules the list actions follow.

    class ChannelAdmin(ObjectActionsMixin, SafeModelAdmin):
        change_actions = ["pause"]

        @object_action(label="Pause", available=lambda channel: not channel.paused)
        def pause(self, request, channel):
            services.channel_pause(channel=channel)
            self.message_user(request, "Paused.")

django-object-actions routes `<pk>/actions/<name>/` to the method but checks neither the
action's permissions nor the HTTP method it was declared with beyond its own list, and
by default answers GET. `object_action` closes that:

1. POST only (a GET is 405), through the admin's CSRF check, like every admin form;
2. the model-level `has_<permission>_permission` of the admin (what a list action asks):
   a view-only staff member gets 403, and never sees the button;
3. while the maintenance mode is not normal the shield hands the POST to the admin
   (`handles_refused_writes`), and the action answers "not done" with a message instead
   of running, so nothing changes and the user stays on the page;
4. a domain error (an illegal state change, a refused input) becomes an error message on
   the change page, not a 500.

Read-only buttons (`method="GET"`, e.g. a download link) skip 3.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django_object_actions import DjangoObjectActions
from django_object_actions import action as dooa_action

from opsconsole.admin_readonly import refused_write_text, writes_refused
from opsconsole.errors import OpsConsoleError

Available = Callable[[Any], bool]


def object_action(
    *,
    label: str,
    description: str = "",
    permission: str = "change",
    method: str = "POST",
    available: Available | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a change-page button; see the module docstring for what it enforces."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def run(self: Any, request: Any, obj: Any) -> Any:
            if not self.has_object_action_permission(request, permission):
                raise PermissionDenied
            if method == "POST" and writes_refused(request):
                self.message_user(request, f"{label}: not done. {refused_write_text(request)}", messages.ERROR)
                return None
            try:
                return func(self, request, obj)
            except OpsConsoleError as exc:
                self.message_user(request, f"{label}: not done. {exc.detail}", messages.ERROR)
                return None

        run.required_permission = permission  # type: ignore[attr-defined]
        run.is_available = available or (lambda obj: True)  # type: ignore[attr-defined]
        return dooa_action(
            run,
            label=label,
            description=description or label,
            methods=(method,),
            button_type="form" if method == "POST" else "a",
        )

    return decorator


class ObjectActionsMixin(DjangoObjectActions):
    """Show only the buttons the user may press and the object's state allows."""

    change_actions: list[str] = []

    def has_object_action_permission(self, request: Any, permission: str) -> bool:
        return bool(getattr(self, f"has_{permission}_permission")(request))

    def get_change_actions(self, request: Any, object_id: str, form_url: str) -> list[str]:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            return []
        shown = []
        for name in super().get_change_actions(request, object_id, form_url):
            action = getattr(self, name)
            if self.has_object_action_permission(request, action.required_permission) and action.is_available(obj):
                shown.append(name)
        return shown

    def get_urls(self) -> list[Any]:
        urls = super().get_urls()
        # Name the action views' admin, as Django does for its own views, so the read-only
        # shield hands a refused POST to the action (which answers with a message).
        actions_url_name = f"{self.model._meta.app_label}_{self.model._meta.model_name}_actions"  # type: ignore[attr-defined]
        for pattern in urls:
            if getattr(pattern, "name", None) == actions_url_name:
                pattern.callback.model_admin = self
        return urls
