"""Taking everything with you (GDPR portability): one zip of the whole space, prepared in the
background, downloadable for 7 days, and readable back into an empty Carnet space.

The modules: `models` (the job row), `archive` (writing the zip, streaming), `bundle` (the FHIR
Bundle, walked from the API's registry), `runner` (claiming and running the job), `services`
(starting, showing, downloading, removing expired zips), `restore` (the operator's import into
an empty space), `routes` and `cli`."""

from flask import Blueprint

bp = Blueprint("export", __name__)

from blueprints.export import routes  # noqa: E402,F401  (the route modules register on bp, here only)
