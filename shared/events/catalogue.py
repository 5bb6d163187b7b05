"""Events of the catalogue context (communities, capacity, needs, network meetings)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import MAX_INT, Code, Event, Id, Ref, register

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
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    public: bool = False

    @property
    def empty(self) -> bool:
        """No name, e-mail or phone: in CommunityUpdated, the contact person was removed."""
        return not (self.name or self.email or self.phone)


# The catalogue API's limits (services/catalogue/schemas.py), so that whatever it accepts makes
# a valid event.
Name = Annotated[str, Field(max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Categories = Annotated[list[Code], Field(max_length=32)]
Amount = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]


class _Catalogue(Event):
    context: ClassVar[str] = "catalogue"
    aggregate: ClassVar[str] = "community_id"


class CommunityRegistered(_Catalogue):
    community_id: Id
    organization_id: Id
    name: Name
    categories: Categories
    area: Code
    kind: CommunityKind
    accepts_special_needs: bool
    capacity_total: Amount | None = None
    contact: WelcomeContact | None = None
    accompaniment_welcome: bool | None = None
    description: Description | None = None


class CommunityUpdated(_Catalogue):
    """The community's current description; fields left out are unchanged."""

    community_id: Id
    name: Name | None = None
    organization_id: Id | None = None
    categories: Categories | None = None
    area: Code | None = None
    kind: CommunityKind | None = None
    accepts_special_needs: bool | None = None
    contact: WelcomeContact | None = None
    accompaniment_welcome: bool | None = None
    description: Description | None = None


class CommunityCapacityChanged(_Catalogue):
    community_id: Id
    available: Amount
    total: Amount
    status: CapacityStatus


class CommunityArchived(_Catalogue):
    community_id: Id


class NeedRecorded(_Catalogue):
    aggregate: ClassVar[str] = "need_id"
    need_id: Id
    # As long as the API takes them: it makes the event first, then checks the codes.
    area: str = Field(max_length=100)
    category: str = Field(max_length=100)
    description: str = Field(max_length=2000)
    recorded_by: Ref


class NetworkMeetingHeld(_Catalogue):
    aggregate: ClassVar[str] = "meeting_id"
    meeting_id: Id
    organizer_id: Id
    organization_ids: list[Annotated[str, Field(max_length=64)]] = Field(max_length=100)
    topic: str = Field(max_length=300)


register(
    CommunityRegistered,
    CommunityUpdated,
    CommunityCapacityChanged,
    CommunityArchived,
    NeedRecorded,
    NetworkMeetingHeld,
)
