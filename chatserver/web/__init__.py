"""The web edge: pure-ASGI middleware, templating, pages per area."""
