"""Canonical domain: models, Money, ids, errors and ports. Imports nothing else of the project."""
