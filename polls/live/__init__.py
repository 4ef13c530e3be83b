"""Redis: the embedded server, throttles, and (later) live tallies and fan-out."""
