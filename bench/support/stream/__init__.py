"""What `bench/stream.py` is made of.

- `catalogue`: the database the app reads (a small catalogue, the bench's files behind its
  first tracks, one track taken down);
- `servers`: `plyr serve` (granian, uvicorn) and nginx (static, and docs/nginx.conf in front
  of plyr) as processes on loopback ports;
- `files`: the media files served, made in the temp storage folder;
- `wrk`: the four workloads, the Lua script that asks for them, one wrk run's figures;
- `checks`: byte-exact answers, nginx serving public media alone, the X-Accel-Redirect
  offload and private media refused, before measuring;
- `report`: the tables printed at the end.
"""
