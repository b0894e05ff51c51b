"""The registry is built on first use: any block module can be imported first."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("first", ["spintwin.block_core", "spintwin.block_macrospin", "spintwin.block_stdp"])
def test_a_block_module_imported_first_does_not_break_the_registry(first):
    code = f"import {first}\nfrom spintwin.blocks import REGISTRY\nprint(','.join(REGISTRY))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1:]
    assert out.stdout.strip() == "macrospin,core,stdp"
