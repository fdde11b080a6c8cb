"""Visibility-filtered pages of a layer; the code lives in ``sapper.store.query`` (the sitrep needs it too)."""

from sapper.store.query import Filter, count, extent, select, sums, where_sql

__all__ = ["Filter", "count", "extent", "select", "sums", "where_sql"]
