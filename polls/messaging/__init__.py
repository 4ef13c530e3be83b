"""Sending the outbox's messages: the senders behind one small interface, the worker that claims
and sends, and the embedded SMTP server of `polls dev`."""
