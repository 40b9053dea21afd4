"""Benchmarks (not tests): ranking one session and planning a month on the national demo data set.

Run `make bench` (or `.venv/bin/python -m bench --help`); see bench/__main__.py.
"""
