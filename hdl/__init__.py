"""spintwin hdl layer (filled in by later issues)."""
