"""spintwin quantize layer (filled in by later issues)."""
