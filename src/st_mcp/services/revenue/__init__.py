"""The revenue side of a conversation: memberships, maintenance visits, estimates, invoices — and noticing
when a requested booking became a job."""
