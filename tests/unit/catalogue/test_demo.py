"""The demo world speaks the profile's vocabulary (other services' demos refer to it)."""

from __future__ import annotations

from collections import Counter

from services.catalogue.demo import DATA, community_id, world
from shared.demo import DEMO_CONTACT_COMMUNITY_ID
from shared.profile import profile


def test_demo_communities_use_profile_codes_and_spread_over_areas() -> None:
    demo = world()
    vocabulary = profile()
    assert len(demo.communities) == 61
    for community in demo.communities:
        assert community.area in vocabulary.area, community.name
        assert all(code in vocabulary.category for code in community.categories), community.name
    for need in demo.needs:
        assert need.area in vocabulary.area and need.category in vocabulary.category
    per_area = Counter(c.area for c in demo.communities)
    # The referrals demo refers citizens to several communities in each of at least five areas.
    assert sum(1 for n in per_area.values() if n >= 3) >= 5
    housing = {a.code for a in vocabulary.area if a.kind == "housing"}
    villages = {a.code for a in vocabulary.area if a.kind == "village"}
    assert housing <= set(per_area)
    assert len(villages & set(per_area)) >= 5


def test_demo_ids_are_stable_and_names_come_from_the_profile() -> None:
    assert community_id(0) == DEMO_CONTACT_COMMUNITY_ID
    assert community_id(1) == "demo-community-02" and community_id(60) == "demo-community-61"
    raw = DATA.read_text(encoding="utf-8")
    for literal in (profile().city, profile().region, profile().programme):
        assert literal not in raw
    names = [o.name for o in world().organizations]
    assert f"{profile().city} Bibliotek" in names and profile().programme in names


def test_some_demo_contacts_consented_to_be_public_and_the_demo_contact_did_not() -> None:
    demo = world()
    contacts = {c.contact for c in demo.communities}
    assert set(demo.public_contacts) <= contacts  # no consent of a person who is not there
    public = [c for c in demo.communities if c.contact in demo.public_contacts]
    assert 0 < len(public) < len(demo.communities)
    assert demo.communities[0].contact not in demo.public_contacts  # the demo contact's own community
