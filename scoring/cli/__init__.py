"""Command-line modules of the scoring package (thin click wrappers, lazy imports)."""
