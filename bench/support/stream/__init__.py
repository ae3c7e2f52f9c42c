"""What `bench/stream.py` is made of.

- `app`: the app under test, plyr's plus a FileResponse route (uvicorn's factory);
- `servers`: plyr under uvicorn and nginx (static, and docs/nginx.conf in front of plyr)
  as processes on loopback ports;
- `files`: the media files served, made in the temp storage folder;
- `wrk`: the four workloads, the Lua script that asks for them, one wrk run's figures;
- `checks`: byte-exact answers and the X-Accel-Redirect offload, before measuring;
- `report`: the tables printed at the end.
"""
