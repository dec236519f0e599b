"""GraphQL types, each built from a canonical model by `from_model`."""
