"""gunicorn's settings by path, for a source checkout (`gunicorn -c deploy/gunicorn.conf.py`).

The settings live in the package (config/gunicorn_conf.py), so an install without a source tree
uses `gunicorn -c python:config.gunicorn_conf config.wsgi`; this file only re-exports them.
"""

from config.gunicorn_conf import *  # noqa: F403
