"""The catalogue's use cases, one module per resource; each use case is one unit of work.

- `catalogue.py`: the service object (runtime + this process's search index kept in step).
- `organizations.py`, `communities.py`, `needs.py`: the API's use cases and the state changes
  inside a caller's unit of work (`changes.py` for communities, `events.py` builds their events).
- `searching.py`: search pages, categories and areas with counts.
- `ingest.py`: applying events that municipal systems post to `/v1/events`.
- `hsds.py`, `importing.py`: the public HSDS 3.0 reads and the admin's HSDS import.
- `pressure.py`: pending referrals per community, from the referrals stream.
"""

from __future__ import annotations

from services.catalogue.service.catalogue import Catalogue

__all__ = ["Catalogue"]
