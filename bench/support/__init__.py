"""What the benchmark scripts in bench/ are made of, one module per concept.

The scripts (`catalogue.py`, `read_paths.py`, `stream.py`) stay thin: their command
line and the order of the run. Run as scripts, their own folder (bench/) is first on
`sys.path`, which is how they import this package as `support`. bench/ is not a package
of the project:
`pyproject.toml` lists it for ruff and mypy only.

- `support.loopback`: a free port and a plain GET on 127.0.0.1;
- `support.databases`: the benchmark's SQLite file or PostgreSQL database (make, check, drop);
- `support.catalogue`: the large catalogue's rows, table by table, and how they are written;
- `support.read_paths`: inputs, bare queries, timing and tables of `read_paths.py`;
- `support.stream`: the servers, wrk workloads, checks and report of `stream.py`;
- `support.load`: the catalogue's audio, the server and its memory, the simulated
  listeners, visitors and uploaders, and the figures of `load.py`;
- `support.export`: the 2 GB library, the measured export runs and their figures (`export.py`).
"""
