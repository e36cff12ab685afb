"""The dashboard and JSON API: incidents, posts, labels, models, feeds and alerts, behind a login."""

from monitor.web.app import BackgroundServer, create_app, serve

__all__ = ["BackgroundServer", "create_app", "serve"]
