"""Durable state: SQLAlchemy models, migrations and the operations that change them."""
