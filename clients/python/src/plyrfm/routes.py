"""Every call the SDK makes to plyr, declared once: its name, method, path template, the
query parameters it sends, the schema of its request body and of its 2xx answer. The
clients go through `ROUTES` only, and tests/clients/test_sdk_openapi.py checks each entry
against the live OpenAPI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

Auth = Literal["required", "optional"]
# json: a body in `response`'s schema; none: no body used; bytes: a file streamed to disk;
# events: a Server-Sent Events stream.
Answer = Literal["json", "none", "bytes", "events"]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # a template: "/api/tracks/{track_id}"
    response: str | None = None  # the component schema of the 2xx answer
    many: bool = False  # the answer is a JSON array of `response`
    body: str | None = None  # the component schema of the JSON request body
    answer: Answer = "json"
    auth: Auth = "optional"  # required: NotSignedIn before any request without a token
    query: tuple[str, ...] = ()  # the query parameters the SDK sends

    def url(self, **params: object) -> str:
        """The path with its parameters filled in, each escaped as one path segment."""
        return self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})


PAGING = ("cursor", "limit")


def _routes(*routes: Route) -> dict[str, Route]:
    return {route.name: route for route in routes}


ROUTES: dict[str, Route] = _routes(
    Route("me", "GET", "/api/me", "Me", auth="required"),
    # tracks
    Route("track", "GET", "/api/tracks/{track_id}", "TrackOut"),
    Route("tracks", "GET", "/api/tracks", "TrackPage", query=("artist", *PAGING)),
    Route("my_tracks", "GET", "/api/me/tracks", "TrackPage", auth="required", query=PAGING),
    Route(
        "edit_track",
        "PATCH",
        "/api/tracks/{track_id}",
        "TrackOut",
        body="TrackEdit",
        auth="required",
    ),
    Route("delete_track", "DELETE", "/api/tracks/{track_id}", answer="none", auth="required"),
    Route("upload", "POST", "/api/tracks", "UploadAccepted", auth="required"),
    Route("upload_status", "GET", "/api/uploads/{upload_id}", "Progress", auth="required"),
    Route(
        "upload_events",
        "GET",
        "/api/uploads/{upload_id}/progress",
        answer="events",
        auth="required",
    ),
    Route("download", "GET", "/audio/{track_id}/download", answer="bytes"),
    Route(
        "top_tracks",
        "GET",
        "/api/tracks/top",
        "RankedTrackOut",
        many=True,
        query=("window", "limit"),
    ),
    # discovery
    Route("search", "GET", "/api/search", "SearchOut", query=("q", "type", "limit")),
    Route("stats", "GET", "/api/stats", "StatsOut"),
    Route("tags", "GET", "/api/tags", "TagCount", many=True, query=("limit",)),
    # likes
    Route("like", "POST", "/api/tracks/{track_id}/like", "LikeOut", auth="required"),
    Route("unlike", "DELETE", "/api/tracks/{track_id}/like", "LikeOut", auth="required"),
    Route("likes", "GET", "/api/me/likes", "TrackPage", auth="required", query=PAGING),
    Route("liked_by", "GET", "/api/users/{handle}/liked", "LikedOut"),
    # comments
    Route("comments", "GET", "/api/tracks/{track_id}/comments", "CommentOut", many=True),
    Route(
        "comment",
        "POST",
        "/api/tracks/{track_id}/comments",
        "CommentOut",
        body="CommentIn",
        auth="required",
    ),
    Route(
        "edit_comment",
        "PATCH",
        "/api/comments/{comment_id}",
        "CommentOut",
        body="CommentEdit",
        auth="required",
    ),
    Route(
        "delete_comment",
        "DELETE",
        "/api/comments/{comment_id}",
        answer="none",
        auth="required",
    ),
    # lists
    Route("lists", "GET", "/api/lists", "ListOut", many=True, query=("did", "type")),
    Route("get_list", "GET", "/api/lists/{list_id}", "ListDetail"),
    Route("create_list", "POST", "/api/lists", "ListDetail", body="ListIn", auth="required"),
    Route(
        "rename_list",
        "PATCH",
        "/api/lists/{list_id}",
        "ListDetail",
        body="ListRename",
        auth="required",
    ),
    Route("delete_list", "DELETE", "/api/lists/{list_id}", answer="none", auth="required"),
    Route(
        "add_to_list",
        "POST",
        "/api/lists/{list_id}/items",
        "ListDetail",
        body="ItemIn",
        auth="required",
    ),
    Route(
        "remove_from_list",
        "DELETE",
        "/api/lists/{list_id}/items/{item_id}",
        "ListDetail",
        auth="required",
    ),
    # people
    Route("profile", "GET", "/api/profile/{handle_or_did}", "ProfileOut"),
    Route("now_playing", "GET", "/api/now-playing/{did}", "NowPlayingOut"),
    Route("now_playing_by_handle", "GET", "/api/now-playing/by-handle/{handle}", "NowPlayingOut"),
    # exports
    Route("start_export", "POST", "/api/me/exports", "ExportOut", auth="required"),
    Route("export_status", "GET", "/api/me/exports/{export_id}", "ExportOut", auth="required"),
    Route(
        "export_download",
        "GET",
        "/api/me/exports/{export_id}/download",
        answer="bytes",
        auth="required",
    ),
)
