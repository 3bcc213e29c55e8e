"""Test-only URLs: the project's URLs plus views that write, to aim the shield at."""

import uuid

from django.contrib.auth.models import Group
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def create_group(request):
    """A plain Django view that writes on POST and reads on GET."""
    if request.method == "POST":
        Group.objects.create(name=request.POST.get("name") or f"group-{uuid.uuid4().hex}")
        return HttpResponse("created", status=201)
    return JsonResponse({"groups": Group.objects.count()})


def write_on_get(request):
    """A badly behaved GET that writes: the execute wrapper must stop it."""
    Group.objects.create(name="written-by-a-get")
    return HttpResponse("wrote")


class WriteOnGetApiView(APIView):
    """A DRF view that writes on GET: the shield's error goes through the project's handler."""

    permission_classes = [AllowAny]

    def get(self, request):
        Group.objects.create(name="written-by-an-api-get")
        return Response({"ok": True})


def page(request):
    return HttpResponse("<h1>a page</h1>")


urlpatterns = [
    path("test/groups", create_group),
    path("test/write-on-get", write_on_get),
    path("test/page", page),
    path("system/test/write-on-get", WriteOnGetApiView.as_view()),
    *project_urlpatterns,
]
