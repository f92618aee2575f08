"""Business logic: customers, availability, booking, escalation. No MCP, no SQL, no permissions here."""
