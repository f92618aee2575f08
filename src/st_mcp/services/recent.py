"""What ``lookup_customer`` just read, kept for a few minutes for the calls that follow it.

An agent looks the caller up, offers windows, then books — within a minute or two, about the same
customer and location. Reading them from ServiceTitan again for the slots and the booking cost two
sequential round trips per flow (DESIGN §10 budgets: slots 1, booking 2). What is kept is what the
checks need: the customer (name, do-not-service flag), its locations (ZIP, owner) and its phone numbers
(for the takeover lock). Capacity is never kept here: a booking re-checks it at ServiceTitan.

The cost is a bounded staleness: a do-not-service flag set in ServiceTitan within the last
``ttl_seconds`` of a lookup may not stop that booking. Writes this server makes update the records.
"""

from __future__ import annotations

from collections.abc import Iterable

from cachetools import TTLCache

from st_mcp.servicetitan.models.crm import Customer, Location

RECENT_TTL_SECONDS = 300.0
RECENT_MAX_ITEMS = 20_000


class RecentRecords:
    def __init__(self, ttl_seconds: float = RECENT_TTL_SECONDS, max_items: int = RECENT_MAX_ITEMS) -> None:
        self._customers: TTLCache[int, Customer] = TTLCache(max_items, ttl_seconds)
        self._locations: TTLCache[int, Location] = TTLCache(max_items, ttl_seconds)
        self._phones: TTLCache[int, tuple[str, ...]] = TTLCache(max_items, ttl_seconds)

    def keep_customers(self, customers: Iterable[Customer]) -> None:
        for customer in customers:
            self._customers[customer.id] = customer

    def keep_locations(self, locations: Iterable[Location]) -> None:
        for location in locations:
            self._locations[location.id] = location

    def keep_phones(self, customer_id: int, phones: Iterable[str]) -> None:
        self._phones[customer_id] = tuple(sorted(set(phones)))

    def customer(self, customer_id: int) -> Customer | None:
        return self._customers.get(customer_id)

    def location(self, location_id: int) -> Location | None:
        return self._locations.get(location_id)

    def phones(self, customer_id: int) -> tuple[str, ...] | None:
        return self._phones.get(customer_id)

    def clear(self) -> None:
        for cache in (self._customers, self._locations, self._phones):
            cache.clear()
