"""Test-session set-up: under pytest-xdist each worker gets one numba thread, so the two
workers of `make test` do not oversubscribe the two cores."""

import os


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import numba

        numba.set_num_threads(1)
