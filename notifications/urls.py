from django.urls import re_path  # noqa: F401

app_name = "notifications"
urlpatterns: list = []
