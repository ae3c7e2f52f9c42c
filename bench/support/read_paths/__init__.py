"""What `bench/read_paths.py` is made of.

- `inputs`: track ids, artist handles and search queries drawn from the catalogue;
- `bare`: the one query each page cannot do without, on a plain connection;
- `measure`: timing one path (app and bare), statements per request, percentiles;
- `home_rps`: requests per second on the home feed, with wrk or with httpx;
- `backend`: one backend's run, with plyr's app served in-process by uvicorn;
- `report`: the per-path lines and the table of each backend.
"""
