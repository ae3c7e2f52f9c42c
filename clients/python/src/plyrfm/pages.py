"""Where plyr's web pages are: the address a person opens for a track or a list. The CLI
prints these and the MCP tools answer with them, so both point at pages that exist."""

from __future__ import annotations


def page_url(site: str, path: str) -> str:
    """A page of plyr's web app (`/tracks/12`) as a full URL on `site`; a full URL passes
    through (plyr answers some links, such as search hits', with paths only)."""
    return path if "://" in path else site.rstrip("/") + "/" + path.lstrip("/")


def track_page(site: str, track_id: int) -> str:
    return page_url(site, f"/tracks/{track_id}")


def list_page(site: str, kind: str, list_id: int) -> str:
    """A playlist's page (`/playlists/7`), or an album's (`/albums/7`)."""
    return page_url(site, f"/{'albums' if kind == 'album' else 'playlists'}/{list_id}")
