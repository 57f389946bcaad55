"""Settings, errors, ids, clock and the event bus: what every other package may use."""
