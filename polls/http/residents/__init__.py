"""Resident pages: enter or scan a code, answer a poll, get a receipt, follow the results."""
