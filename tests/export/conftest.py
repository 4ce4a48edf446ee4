import pytest

from blueprints.export import runner


@pytest.fixture
def exporter(app, client, make_holder, login_as, fresh_store):
    """(client logged in as a fresh holder, account), the blob store empty; background threads
    off: tests run jobs."""
    app.config["EXPORT_THREADS"] = False
    account, _ = make_holder()
    login_as(client, account)
    yield client, account
    app.config.pop("EXPORT_THREADS", None)


@pytest.fixture
def run_export(app):
    """run_export(job_id) → the finished job, run here as the background thread would."""

    def do(job_id):
        with app.app_context():
            done = runner.run(job_id)
            assert done is not None
            return done

    return do
