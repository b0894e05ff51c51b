"""spintwin boards layer (filled in by later issues)."""
