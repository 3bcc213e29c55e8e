"""`ReadOnlyAwareMixin`: the admin's forms follow the maintenance mode instead of ending on a 503.

While the mode is not normal the shield (maintenance/middleware.py) marks each request it
lets through with `request.maintenance_snapshot`, and it hands the POSTs of an admin that
says `handles_refused_writes` to that admin, marked `request.writes_refused`, inside the
database write blocker, instead of answering with the bare 503 page. Such an admin then:

1. renders its add and change pages read-only: every field disabled (the form's own
   rendering, so masked credentials stay masked), inlines read-only, no Save or Delete
   buttons, and a notice saying why;
2. answers a refused save with the same form, bound to what was typed, an error saying
   why it was not saved, and its Save buttons, to save again once the mode is back;
3. answers a refused list action, delete or object action with a message on the page
   the user came from; nothing has run.

The maintenance screen is an exempt path: the shield does not mark it, so it stays usable.
Nothing here decides what is refused: that stays the shield's and the guards' rule.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect


def mode_snapshot(request: Any) -> Any:
    """The maintenance state the shield found for this request, or None in normal mode."""
    return getattr(request, "maintenance_snapshot", None)


def writes_refused(request: Any) -> bool:
    """Whether the shield handed this write to the admin only to be answered with a refusal."""
    return getattr(request, "writes_refused", None) is not None


def refused_write_text(request: Any) -> str:
    """Why nothing may be changed now, for a message or a notice."""
    snapshot = mode_snapshot(request)
    if snapshot is None:
        return "Changes are refused for now."
    text = f"The console is in {snapshot.mode} mode: changes are refused until it is back to normal."
    if snapshot.message:
        text += f" “{snapshot.message}”"
    return text


def _frozen_form(form_class: type) -> type:
    class Frozen(form_class):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for field in self.fields.values():
                field.disabled = True

    Frozen.__name__ = form_class.__name__
    return Frozen


def _refusing_form(form_class: type, reason: str) -> type:
    class Refusing(form_class):  # type: ignore[valid-type,misc]
        def full_clean(self) -> None:
            super().full_clean()
            if self.is_bound:
                self.add_error(None, ValidationError(f"Not saved. {reason}", code="writes_refused"))

    Refusing.__name__ = form_class.__name__
    return Refusing


class ReadOnlyAwareMixin:
    """Add and change pages that follow the maintenance mode; see the module docstring."""

    #: the shield hands this admin's POSTs to it while writes are refused (see the module docstring)
    handles_refused_writes = True

    def _frozen(self, request: Any) -> bool:
        return mode_snapshot(request) is not None and not writes_refused(request)

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        if writes_refused(request):
            return _refusing_form(form, refused_write_text(request))
        if self._frozen(request):
            return _frozen_form(form)
        return form

    def get_inline_instances(self, request: Any, obj: Any = None) -> list[Any]:
        inlines = super().get_inline_instances(request, obj)  # type: ignore[misc]
        if mode_snapshot(request) is not None:
            for inline in inlines:
                inline.has_add_permission = lambda *args, **kwargs: False
                inline.has_change_permission = lambda *args, **kwargs: False
                inline.has_delete_permission = lambda *args, **kwargs: False
        return inlines

    def render_change_form(self, request: Any, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if mode_snapshot(request) is not None:
            context["readonly_mode_notice"] = refused_write_text(request)
            if self._frozen(request):
                context.update(
                    show_save=False, show_save_and_continue=False, show_save_and_add_another=False, show_delete=False
                )
            else:
                context["readonly_mode_notice"] += " What you typed is kept below: save again once it is."
        return super().render_change_form(request, context, *args, **kwargs)  # type: ignore[misc]

    def changelist_view(self, request: Any, extra_context: Any = None) -> Any:
        if writes_refused(request):
            messages.error(request, f"Nothing done. {refused_write_text(request)}")
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def delete_view(self, request: Any, object_id: str, extra_context: Any = None) -> Any:
        if writes_refused(request):
            messages.error(request, f"Not deleted. {refused_write_text(request)}")
            return HttpResponseRedirect(request.get_full_path())
        return super().delete_view(request, object_id, extra_context)  # type: ignore[misc]
