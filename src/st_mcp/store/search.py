"""``list_interactions search=``: a case-insensitive substring of the name, summary, request, phone,
source or job number — answered by an index (migration 0004), not by scanning every row.

SQLite: the FTS5 table ``interactions_search`` with the trigram tokenizer, whose phrase queries are
substring matches. PostgreSQL: a pg_trgm GIN index on the lower-cased fields joined by a unit separator,
which serves ``LIKE '%…%'``. Trigrams rather than word-based full text because the tool promises
substrings: part of a phone ("0193"), of a job number, of a name. A term shorter than three characters
has no trigram; it falls back to scanning (still correct, as before).

Cost: a name, a phone or a job number matches a few rows and answers in milliseconds at a million rows. A
term that a large share of the store matches (a source one lead in six has: 166,000 of 1 M) still costs
0.2 s (PostgreSQL) to 0.5 s (SQLite), because the newest-first page sorts every match and
``total_matching`` counts them (bench/counters.py, "search common").
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import literal_column, or_, select, table

from st_mcp.store.schema import interactions

# Exactly the expression of ix_interactions_search (migration 0004), so the planner can use the index.
SEARCHED = ("name", "summary", "request", "phone", "source", "job_number")
PG_DOCUMENT = "lower(" + " || chr(31) || ".join(f"coalesce({c}, '')" for c in SEARCHED) + ")"
_PHONE_LIKE = re.compile(r"[\d\s().+-]+")
_FTS = table("interactions_search")


def search_clause(dialect: str, search: str) -> Any:
    term = search.strip().lower()
    terms = [term]
    # A phone as a CSR types it — "(720) 555-0193", "720-555-0193" — matches on its digits.
    digits = re.sub(r"\D", "", search)
    if len(digits) >= 4 and _PHONE_LIKE.fullmatch(search.strip()):
        terms.append(digits[-10:])
    if dialect == "sqlite" and all(len(t) >= 3 for t in terms):
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)  # phrases: substrings
        matching = (
            select(literal_column("rowid"))
            .select_from(_FTS)
            .where(literal_column("interactions_search").op("MATCH")(query))
        )
        return literal_column("interactions.rowid").in_(matching)
    if dialect == "postgresql":
        return or_(*(literal_column(PG_DOCUMENT).like(f"%{t}%") for t in terms))
    return _scan(terms)


def _scan(terms: list[str]) -> Any:
    c = interactions.c
    clauses = []
    for term in terms:
        pattern = f"%{term}%"
        clauses += [
            c.name.ilike(pattern),
            c.summary.ilike(pattern),
            c.request.ilike(pattern),
            c.phone.like(pattern),
            c.source.ilike(pattern),
            c.job_number.ilike(pattern),
        ]
    return or_(*clauses)
