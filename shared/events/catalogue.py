"""Events of the catalogue context (communities, capacity, needs, network meetings)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from shared.events.envelope import Event, Id, register

CommunityKind = Literal["permanent", "practice_track"]
CapacityStatus = Literal["open", "waitlist", "full"]


class WelcomeContact(BaseModel):
    """The community's welcome contact: a volunteer's directory data, not a citizen's.

    Still a person's data: `public` says they consented to be shown in the public feeds
    (HSDS); without it only the organisation's own contact details are published there.
    In `CommunityUpdated` a contact with no name, e-mail or phone says the community has no
    contact person any more (removed); `contact: null` there says nothing changed.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    public: bool = False

    @property
    def empty(self) -> bool:
        """No name, e-mail or phone: in CommunityUpdated, the contact person was removed."""
        return not (self.name or self.email or self.phone)


class _Catalogue(Event):
    context: ClassVar[str] = "catalogue"
    aggregate: ClassVar[str] = "community_id"


class CommunityRegistered(_Catalogue):
    community_id: Id
    organization_id: Id
    name: str
    categories: list[str]
    area: str
    kind: CommunityKind
    accepts_special_needs: bool
    capacity_total: int | None = None
    contact: WelcomeContact | None = None
    accompaniment_welcome: bool | None = None
    description: str | None = None


class CommunityUpdated(_Catalogue):
    """The community's current description; fields left out are unchanged."""

    community_id: Id
    name: str | None = None
    organization_id: Id | None = None
    categories: list[str] | None = None
    area: str | None = None
    kind: CommunityKind | None = None
    accepts_special_needs: bool | None = None
    contact: WelcomeContact | None = None
    accompaniment_welcome: bool | None = None
    description: str | None = None


class CommunityCapacityChanged(_Catalogue):
    community_id: Id
    available: int
    total: int
    status: CapacityStatus


class CommunityArchived(_Catalogue):
    community_id: Id


class NeedRecorded(_Catalogue):
    aggregate: ClassVar[str] = "need_id"
    need_id: Id
    area: str
    category: str
    description: str
    recorded_by: str


class NetworkMeetingHeld(_Catalogue):
    aggregate: ClassVar[str] = "meeting_id"
    meeting_id: Id
    organizer_id: Id
    organization_ids: list[str]
    topic: str


register(
    CommunityRegistered,
    CommunityUpdated,
    CommunityCapacityChanged,
    CommunityArchived,
    NeedRecorded,
    NetworkMeetingHeld,
)
