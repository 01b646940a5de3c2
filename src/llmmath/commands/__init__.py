"""Subcommands of ``llmmath``; each module defines ``register(app)``."""
