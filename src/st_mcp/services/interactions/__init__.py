"""Interactions: the conversation log CSRs work from (DESIGN §5)."""
