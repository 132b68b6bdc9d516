"""Shipped reference tables: GB/T 4754 industry divisions, crosswalk, header synonyms."""
