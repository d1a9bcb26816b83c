"""The illustrative review shipped in ``data/``: a seeded generator with its true parameters."""
