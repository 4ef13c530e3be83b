"""Pure rules of the service: plain data in, plain data out, no I/O."""
