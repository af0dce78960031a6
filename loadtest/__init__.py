"""Load generator and benchmark for the live path (imports chatserver.protocol only)."""
