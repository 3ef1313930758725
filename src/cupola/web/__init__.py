"""The web app and JSON API (FastAPI): ``create_app()``; ``cupola serve`` runs it with uvicorn.

Only this package imports FastAPI, so the library and the command line work without it.
"""

from .app import WebLimits, create_app, serve

__all__ = ["create_app", "serve", "WebLimits"]
