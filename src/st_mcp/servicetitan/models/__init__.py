"""Pydantic models of ServiceTitan entities, field names exactly as in the OpenAPI documents."""
