"""Alembic runs against the app's own configuration (instance/, DATABASE_URL)."""

from alembic import context

from app import create_app
from core.db import Base, db

app = create_app()


def run_migrations() -> None:
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()


run_migrations()
