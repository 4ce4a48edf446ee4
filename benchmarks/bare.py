"""The smallest Flask app: one route returning a constant string.

Served by the same gunicorn with the same workers, it is the ceiling for any Flask page on
the machine the benchmark runs on.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
