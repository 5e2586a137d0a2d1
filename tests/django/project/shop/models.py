"""The application's own data, written in the same transactions as its tasks."""

from __future__ import annotations

from django.db import models


class Order(models.Model):
    note: models.CharField[str, str] = models.CharField(max_length=100)
