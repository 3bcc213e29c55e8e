from django.urls import re_path  # noqa: F401

app_name = "retention"
urlpatterns: list = []
