"""spintwin tb layer (filled in by later issues)."""
