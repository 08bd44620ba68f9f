"""railwatch.web: the REST API and the offline dashboard (FastAPI, optional extra ``web``).

Build the application with :func:`railwatch.web.app.create_app`; run it with
``railwatch serve``. Importing this package needs the ``web`` extra.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from railwatch.web.app import create_app

        return create_app
    raise AttributeError(name)
