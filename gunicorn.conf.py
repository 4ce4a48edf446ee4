"""gunicorn's settings for Carnet (read from the working directory by `gunicorn`).

The request timeout is the app's REQUEST_TIMEOUT_SECONDS (CARNET_REQUEST_TIMEOUT_SECONDS):
`storage check` leaves alone unknown files younger than twice it, since an upload writes
its file and commits its row within one request."""
import os

timeout = int(os.environ.get("CARNET_REQUEST_TIMEOUT_SECONDS", "60"))

