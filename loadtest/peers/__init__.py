"""Reference servers for ``python -m loadtest compare`` (not part of the product)."""
