"""Who is calling and what they may do: identity now, permissions and the audit trail next."""
