"""Bytes over HTTP, for every surface that sends audio or images (the web's media routes,
the Subsonic surface): below them both, above storage.

- `serve`: `serve_object`, the one path for stored objects (ranges, conditional requests,
  proxy offload, S3 redirects; its docstring says how and why).
- `validators`: the HTTP rules as pure functions (ranges, entity tags, dates, the order of
  preconditions, Content-Disposition).
- `file_response`: the ASGI response sending part of an open file.
- `live`: the ASGI response sending what a worker thread makes as it makes it (a transcode),
  bounded in memory and stopped when the client leaves.
"""
