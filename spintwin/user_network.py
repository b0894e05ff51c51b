"""Your network on the twin: ``spintwin import | export | train`` (NIR in and out, a numpy MLP).

- :func:`import_nir`: a NIR graph -> the network description (``.npz``, :func:`golden.network.save`)
  and, for ``--out design.toml``, a design file whose ``[core]`` table names it (``network``,
  ``kind``, ``dataset``), ready for ``spintwin generate|verify core --config design.toml``.
- :func:`export_nir`: a built-in network or a description file -> NIR.
- :func:`train_to_nir`: a data set -> a bias-free ReLU MLP (:mod:`golden.mlp`), normalised for
  CMOS IF neurons -> NIR, with its float test accuracy.

Every user error (missing or foreign file, an unsupported NIR node, a data set that does not fit,
an unusable ``--out``) is one :class:`~spinbase.errors.SpintwinError` line, checked before any
file is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from spinbase.errors import SpintwinError

__all__ = ["import_nir", "export_nir", "train_to_nir", "load_network", "out_file"]


def out_file(path, suffixes: tuple, option: str = "--out") -> Path:
    """Check an output *file* up front: a name ending in one of ``suffixes``, not a folder; its
    folder is created and must be writable (:func:`spinbase.fileio.prepare_out_dir`)."""
    from spinbase.fileio import prepare_out_dir

    text = "" if path is None else str(path)
    if not text.strip():
        raise SpintwinError(f"{option} must name a file, not an empty string")
    p = Path(text)
    if not p.name.lower().endswith(suffixes) or p.name.lower() in suffixes:
        raise SpintwinError(f"{option} {text!r} must name a {' or '.join(suffixes)} file")
    if p.is_dir():
        raise SpintwinError(f"{option} {text!r} is a folder, not a {' or '.join(suffixes)} file")
    try:
        parent = prepare_out_dir(p.parent if str(p.parent) else Path("."), option)
    except SpintwinError as e:
        raise SpintwinError(f"{option} {text!r}: {str(e).split(': ', 1)[-1]}") from None
    if len(p.name.encode()) > 250:
        raise SpintwinError(f"{option} {text!r}: the file name is too long")
    return parent / p.name


def load_network(spec: str):
    """A built-in network by name (``golden.network.BUILTINS``), or a description (``.npz``) or
    NIR (``.nir``) file; one line when it is none of them."""
    from golden import network as nw

    if spec in nw.BUILTINS:
        return nw.builtin(spec)
    low = str(spec).lower()
    if low.endswith(".nir"):
        from golden.nir_io import read_nir

        return read_nir(spec)[0]
    if low.endswith(".npz"):
        try:
            return nw.load(spec)
        except ValueError as e:     # NetworkError: one line naming the file
            raise SpintwinError(" ".join(str(e).split())) from None
        except Exception as e:      # a damaged .npz: zipfile.BadZipFile, EOFError, ... from numpy.load
            raise SpintwinError(f"{spec}: not a network file ({type(e).__name__}: {' '.join(str(e).split())})"
                                ) from None
    raise SpintwinError(f"--network must be one of {', '.join(nw.BUILTINS)} or a .npz / .nir network file, "
                        f"not {spec!r}")


def _fitting_dataset(network, dataset: str | None):
    """(name or path, record): ``dataset`` checked against ``network``, or the first built-in
    data set that fits it (``spintwin.block_core.fitting_dataset``)."""
    from spinbase.data import check_fits, load_dataset

    from .block_core import fitting_dataset

    dataset = dataset if dataset is not None else fitting_dataset(network)
    rec = load_dataset(dataset)[2]
    check_fits(network, rec)
    return dataset, rec


def _toml_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)   # a JSON string is a valid TOML basic string


def import_nir(model, out, *, dt: float, dataset: str | None = None, echo=print) -> dict:
    """``spintwin import``: read ``model`` (NIR), write the description and (for a ``.toml``
    ``out``) a design file; returns what was written."""
    from golden import network as nw
    from golden.nir_io import read_nir, report_lines
    from spinbase.fileio import atomic_write_text

    target = out_file(out, (".toml", ".npz"))
    network, report = read_nir(model, dt=dt)
    for line in report_lines(report):
        echo(line)
    if target.suffix.lower() == ".npz":
        if dataset is not None:
            _fitting_dataset(network, dataset)
        nw.save(network, target)
        echo(f"wrote {target} (network {network.name!r}, {len(network.layers)} layers, kind "
             f"{network.kind or 'not named by its neurons'})")
        return {"network": str(target)}
    data_name, rec = _fitting_dataset(network, dataset)
    net_file = target.with_suffix(".npz")
    if data_name.lower().endswith(".npz"):
        data_name = os.path.relpath(Path(data_name).resolve(), target.parent)
    kind = network.kind
    lines = [f"# A spintwin design: network {network.name!r} imported from {Path(model).name} by `spintwin import`.",
             "# Build it: spintwin generate core --config THIS.toml --out out/rtl;",
             "# check it: spintwin verify core --config THIS.toml --images 10.",
             "# Any [core] key of configs/default.toml may be added (levels, membrane_bits, steps, ...).",
             "[core]",
             f"network = {_toml_str(net_file.name)}          # the network description, relative to this file",
             f"dataset = {_toml_str(data_name)}          # {rec['sample_shape']} samples, {rec['classes']} classes"]
    if kind is None:
        lines.append('kind = "cmos-if"                 # its neurons name no hardware: the CMOS IF baseline')
    nw.save(network, net_file)
    atomic_write_text(target, "\n".join(lines) + "\n")
    echo(f"wrote {target} and {net_file.name} (network {network.name!r}, kind {kind or 'cmos-if'}, data set "
         f"{data_name})")
    return {"design": str(target), "network": str(net_file)}


def export_nir(spec: str, out, *, dt: float, echo=print) -> dict:
    """``spintwin export``: a built-in or a description file as NIR."""
    from golden.nir_io import write_nir

    target = out_file(out, (".nir",))
    network = load_network(spec)
    write_nir(network, target, dt=dt)
    echo(f"wrote {target} (network {network.name!r}, {len(network.layers)} layers)")
    return {"nir": str(target)}


def train_to_nir(dataset: str, hidden: tuple, out, *, epochs: int, seed: int, echo=print) -> dict:
    """``spintwin train``: an MLP on ``dataset``'s training split, normalised for IF neurons of
    the CMOS kind, written as NIR; prints and returns the float test accuracy."""
    from golden.mlp import accuracy, mlp_network, normalise_mlp, train_mlp
    from golden.nir_io import write_nir
    from spinbase.data import check_fits, load_dataset

    target = out_file(out, (".nir",))
    (x_tr, y_tr), (x_te, y_te), rec = load_dataset(dataset)
    weights = train_mlp(x_tr, y_tr, hidden, classes=rec["classes"], epochs=epochs, seed=seed)
    acc = accuracy(weights, x_te, y_te)
    normalised, _ = normalise_mlp(weights, x_tr)
    network = mlp_network(normalised, target.stem, tuple(rec["sample_shape"]))
    check_fits(network, rec)
    write_nir(network, target)
    sizes = "-".join(str(v) for v in (rec["sample_shape"][0] * rec["sample_shape"][1] * rec["sample_shape"][2],
                                      *hidden, rec["classes"]))
    echo(f"trained a {sizes} MLP on {rec['name']} ({rec['train']} training, {rec['test']} test samples): "
         f"float accuracy {acc:.4f} on the test split")
    echo(f"wrote {target}")
    return {"nir": str(target), "accuracy": acc, "dataset": rec}
