"""Wire shapes: each function turns a record into exactly the JSON object the OpenAPI schema describes —
every required key, nullable ones as null, nothing extra (most schemas say additionalProperties: false).
One module per API module."""
