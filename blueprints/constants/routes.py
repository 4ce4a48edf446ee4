"""Health measures: overview, one kind with its chart, entry, correction, removal, export."""
from __future__ import annotations

from blueprints.constants import bp  # noqa: F401
from blueprints.constants import import_routes  # noqa: F401  (imports live in their own module)
