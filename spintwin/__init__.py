"""spintwin: the flow on top of golden -> quantize -> hdl -> tb -> boards (CLI, configs, reports)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
