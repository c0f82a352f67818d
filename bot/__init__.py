"""Composition root, settings, CLI, channel adapters and workers: everything that touches the outside."""
