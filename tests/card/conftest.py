"""The card tests use a registered kiosk too (the card is never kept on one)."""

from tests.kiosk.conftest import kiosk_client  # noqa: F401  (the same fixture, shared)
