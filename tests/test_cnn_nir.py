"""Issue 16's CNN must-show: a two-conv CNN (3 x 3 kernels, padding 1, average pooling, a dense
readout) trained by golden.convnet on MNIST, written as NIR with the nir package, imported with
`spintwin import`, verified bit-exact through the RTL core on Verilator (10 test images) with
`spintwin verify core --config`: spike for spike, cycle for cycle, and the RTL's decisions equal
the integer model's. Training (~40 s) and the Verilator build make it a long check."""

import json
import subprocess
import sys

import pytest


@pytest.mark.long
def test_two_conv_cnn_from_nir_verifies_bit_exact_on_verilator(tmp_path):
    from bench.user_networks import _design
    from tb.runner import skip_unless_simulator

    skip_unless_simulator("verilator")
    design, facts = _design("small-cnn", tmp_path)
    assert (tmp_path / "small-cnn.nir").stat().st_size > 0
    r = subprocess.run([sys.executable, "-m", "spintwin.cli", "verify", "core", "--config", str(design),
                        "--images", "10", "--steps", "20"], capture_output=True, text=True, timeout=3000)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["bit_exact"] is True and res["images"] == 10 and res["sim"] == "verilator"
    assert len(res["rtl_pred"]) == 10
