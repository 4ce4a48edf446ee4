"""Importing measures from a device or an app's file."""
from __future__ import annotations

from blueprints.constants import bp  # noqa: F401
