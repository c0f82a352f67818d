"""Channel adapters: each turns platform events into ``Incoming`` and renders ``Reply`` objects."""
