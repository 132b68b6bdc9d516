"""Command-line modules of the maps package (one per subcommand)."""
