"""Who may use /system: staff only, and Django model permissions decide the rest."""

from rest_framework import permissions


class IsStaffWithModelPermissions(permissions.DjangoModelPermissions):
    """Anonymous -> 401, non-staff -> 403, staff -> the model's view/add/change/delete perm.

    Views with no queryset (health-like views, actions on services) only need staff.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if not user.is_staff:
            return False
        if getattr(view, "_ignore_model_permissions", False):
            return True
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return True
        required = getattr(view, "required_permissions", None)
        if required is not None:
            return user.has_perms(required.get(request.method, required.get("*", [])))
        return super().has_permission(request, view)


def staff_action_permissions(read: list[str], write: list[str]) -> dict[str, list[str]]:
    """A `required_permissions` map for views whose writes are actions, not model CRUD."""
    return {"GET": read, "HEAD": read, "OPTIONS": [], "*": write}
