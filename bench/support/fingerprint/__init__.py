"""Pieces of `bench/fingerprint.py`: synthetic music (`music`), its transformed copies
written with PyAV (`copies`), and the corpus cached on disk (`corpus`)."""
