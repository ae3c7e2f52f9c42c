"""The large catalogue of `bench/catalogue.py`, as rows, and how they reach a database.

`fill.fill` runs the steps in order, and the order matters: every table draws from the
one random generator of `state.Catalogue`, so the same seed and `--now` give the same rows
only while the tables are built in the same order (artists, planning, tracks, tags, lists,
likes, plays).

- `sizes`: how many rows of each kind for a `--scale`;
- `names`, `draws`, `records`: made-up words and names, random draws, record identifiers;
- `state`: what later tables use of what earlier ones chose, and one table's rows;
- `plan`: track ownership, dates, popularity, the plays drawn and the albums;
- `artists`, `tracks`, `tags`, `lists`, `activity` (likes and plays): rows per table;
- `writers`: executemany on SQLite, COPY on PostgreSQL;
- `fill`: the migrations, then every table, then the sequences and `VACUUM (ANALYZE)`.
"""
