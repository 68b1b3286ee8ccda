"""Benchmarks of the tengr.ai provider against the local emulator; results in ``docs/benchmarks.md``.

Each module is one command (``python -m bench.<name>``) that prints a table and one JSON line;
``python -m bench.run_all`` (``make bench``) runs them all. Only loopback traffic, no key needed.
"""
