"""Background work under one supervisor."""
