"""Rules every feature shares: no routes here, and nothing imports a blueprint."""
