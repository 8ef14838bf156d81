"""Search filters: the restrictions a question may carry, executed inside each store's search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Optional restrictions; every field narrows the search, inside it."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)
