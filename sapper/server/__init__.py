"""The operations server: OGC API - Features, the REST API, accounts and roles."""

from sapper.server.app import create_app

__all__ = ["create_app"]
