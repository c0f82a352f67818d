"""Persistence: SQLAlchemy models, repositories, migrations and the knowledge-base loader.

Only this package writes SQL.
"""
