"""The vote path: the booth, the group-commit writer, the Redis fast path and the SQLite writer pair.

Kept free of imports: the SQLite writer process (polls.voting.sqlite_process) imports this
package first and must start without SQLAlchemy or Redis.
"""
