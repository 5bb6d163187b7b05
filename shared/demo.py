"""Well-known identities of the demo world that `make run` loads.

Shared so that the tokens in var/dev-tokens.json belong to actors that exist in the demo data
(the professional's token sees that professional's referrals, the community contact's token
the referrals to that community).
"""

from __future__ import annotations

DEMO_ACTORS = {
    "guide": "guide-anne",
    "professional": "prof-jobcenter-mette",
    "ambassador": "amb-lars",
    "community_contact": "contact-strikkeklub",
    "analyst": "analyst-vive",
    "admin": "admin-kommune",
    "municipal_system": "system-jobcenter",
    "dpo": "dpo-hanne",
}
# The community the demo community contact receives for (catalogue's demo uses this id).
DEMO_CONTACT_COMMUNITY_ID = "demo-community-01"
