"""The rules an event meets to enter through `POST /v1/events`: the APIs' rules, so both doors
let in the same.

- Vocabulary: areas, categories, sectors, target groups and training topics are the profile's
  codes (a refusal names the allowed ones); an age band is one of the contract's bands.
- Consent: a citizen's attributes (age band, area, target groups) and a loneliness score enter
  only with the consent the sending system states on the CloudEvent: the extension attribute
  `consentdate`, the date the citizen consented to the municipality's purpose (the profile's
  `consent_purpose`), e.g. `"consentdate": "2025-03-01"` (binary mode: `ce-consentdate`).
- Personal data: no phone number, e-mail address or CPR number in any string that is not
  directory data (a referrer's work contact, a community's contact); identifiers hold no spaces.
- Nothing unknown travels on: the bus gets the envelope as posted, so an extension attribute
  other than `consentdate` is refused rather than passed on.

Every string in an event is classified from the event models: an `Id`, a `Literal`, a time,
or a field named in `FIELDS`. A new string field that is none of these is refused here and
fails the unit test and the stream scan (tests/e2e) until it is classified: free text does
not slip onto the bus unnoticed.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel

from shared.errors import DomainError
from shared.events import REGISTRY, Envelope, Event
from shared.events.envelope import ID_MARK
from shared.events.referrals import AGE_BANDS, CitizenRegistered, LonelinessMeasured
from shared.privacy import CPR_MESSAGE, CPR_PATTERN
from shared.profile import Profile, Vocabulary, profile

CONSENT_ATTRIBUTE = "consentdate"
CPR = "a CPR number"


class Kind(StrEnum):
    """What a string in an event holds."""

    id = "id"  # an identifier: no spaces, no contact data
    uri = "uri"  # the CloudEvents source
    time = "time"
    enum = "enum"  # a Literal of the contract
    code = "code"  # a machine code of no vocabulary (a language, a rule, a channel, a period)
    failure = "failure"  # a delivery failure's code, `smtp: SMTPRecipientsRefused`
    area = "area"
    category = "category"
    sector = "sector"
    target_group = "target_group"
    training_topic = "training_topic"
    age_band = "age_band"
    work_contact = "work_contact"  # directory: a referrer's work contact, a community's contact
    directory_text = "directory_text"  # text about a community, an organisation or a need, never a person


VOCABULARIES = {Kind.area, Kind.category, Kind.sector, Kind.target_group, Kind.training_topic}

# Every string field of an event that is not an `Id`, a `Literal` or a time, by "<model>.<field>"
# (the model that declares it: an event, or a nested one such as WelcomeContact).
FIELDS: dict[str, Kind] = {
    # referrals
    "ReferrerActivated.sector": Kind.sector,
    "ReferrerActivated.organization": Kind.directory_text,
    "ReferrerActivated.area": Kind.area,
    "ReferrerActivated.activated_by": Kind.id,
    "ReferrerActivated.name": Kind.work_contact,  # a referrer's work name is directory data
    "ReferrerActivated.languages": Kind.code,
    "WorkContact.email": Kind.work_contact,
    "WorkContact.phone": Kind.work_contact,
    "TrainingRecorded.topic": Kind.training_topic,
    "CitizenRegistered.age_band": Kind.age_band,
    "CitizenRegistered.area": Kind.area,
    "CitizenRegistered.target_groups": Kind.target_group,
    "WelcomeConfirmed.confirmed_by": Kind.id,
    "FirstVisitProposed.proposed_by": Kind.id,
    "NoShowReported.reported_by": Kind.id,
    "OutreachRecorded.area": Kind.area,
    # catalogue
    "CommunityRegistered.name": Kind.directory_text,
    "CommunityRegistered.categories": Kind.category,
    "CommunityRegistered.area": Kind.area,
    "CommunityRegistered.description": Kind.directory_text,
    "CommunityUpdated.name": Kind.directory_text,
    "CommunityUpdated.categories": Kind.category,
    "CommunityUpdated.area": Kind.area,
    "CommunityUpdated.description": Kind.directory_text,
    "WelcomeContact.name": Kind.work_contact,
    "WelcomeContact.email": Kind.work_contact,
    "WelcomeContact.phone": Kind.work_contact,
    "NeedRecorded.area": Kind.area,
    "NeedRecorded.category": Kind.category,
    "NeedRecorded.description": Kind.directory_text,  # what is missing where, not who misses it
    "NeedRecorded.recorded_by": Kind.id,
    "NetworkMeetingHeld.organization_ids": Kind.id,
    "NetworkMeetingHeld.topic": Kind.directory_text,
    # notifications
    "NudgeSent.rule": Kind.code,
    "NudgeSent.channel": Kind.code,
    "NotificationDeliveryFailed.rule": Kind.code,
    "NotificationDeliveryFailed.channel": Kind.code,
    "NotificationDeliveryFailed.reason": Kind.failure,
    # analytics
    "MetricsSnapshotPublished.period": Kind.code,
}

# The envelope's own strings; `consentdate` is the one extension attribute the contract knows.
ENVELOPE: dict[str, Kind] = {
    "specversion": Kind.enum,
    "id": Kind.id,
    "source": Kind.uri,
    "type": Kind.enum,
    "time": Kind.time,
    "subject": Kind.id,
    "datacontenttype": Kind.uri,
    CONSENT_ATTRIBUTE: Kind.time,
}

# Phone numbers: eight digits, in pairs or not, with or without a country code (+45, 0045).
PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)\d{2}[ .]?)?\d{2}[ .]?\d{2}[ .]?\d{2}[ .]?\d{2}(?!\w)")
EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# In an identifier only a phone number that is all of it, or one with a country code, counts:
# an id's digits (a date, a running number) are no phone number otherwise.
PHONE_IN_ID = re.compile(r"^(?:(?:\+|00)\d{2})?\d{8}$|\+\d{2}[ .]?\d{8}")
IDENTIFIER = re.compile(r"^\S{1,64}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")
UUID_ID = re.compile(rf"^(?:[a-z]{{1,8}}-)?{UUID.pattern}$", re.IGNORECASE)  # c-<uuid>, <uuid>
_WITHOUT_DIGITS = str.maketrans("", "", "0123456789")
FAILURE = re.compile(r"^[a-z]+(?:: [A-Za-z][A-Za-z0-9]*(?: \d{3})?)?$")
URI = re.compile(r"^[A-Za-z0-9/:._~-]{1,200}$")


class Unclassified(TypeError):
    """A string field of an event model that `FIELDS` does not classify."""


# ------------------------------------------------------------------ the models' strings


@dataclass(frozen=True)
class Field:
    """How to read one field of a model: the kind of its strings, or the nested model."""

    kind: Kind | None  # None: holds no strings (numbers, booleans) or a nested model
    nested: type[BaseModel] | None = None
    choices: tuple[str, ...] = ()


def _field(owner: type[BaseModel], name: str, annotation: Any, metadata: list[Any]) -> Field:
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return _field(owner, name, inner, [*metadata, *extra])
    if get_origin(annotation) in (Union, types.UnionType):
        readings = [_field(owner, name, arg, metadata) for arg in get_args(annotation) if arg is not type(None)]
        if len(readings) != 1:
            raise Unclassified(f"{owner.__name__}.{name}: a union of several types cannot be screened")
        return readings[0]
    if get_origin(annotation) in (list, tuple, set, frozenset):
        items = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        return _field(owner, name, items[0], metadata)
    if get_origin(annotation) is Literal:
        return Field(Kind.enum, choices=tuple(str(a) for a in get_args(annotation)))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Field(None, nested=annotation)
    if annotation in (datetime, date):
        return Field(Kind.time)
    if annotation is str:
        if ID_MARK in metadata:
            return Field(Kind.id)
        kind = FIELDS.get(f"{owner.__name__}.{name}")
        if kind is None:
            raise Unclassified(
                f"{owner.__name__}.{name} is a string that is no Id, Literal or time; classify it in "
                "shared/screening.py FIELDS (free text does not travel on the bus)"
            )
        return Field(kind)
    return Field(None)


@cache
def fields_of(model: type[BaseModel]) -> dict[str, Field]:
    """How to read each field of `model` (raises Unclassified for an unclassified string)."""
    found = {
        name: _field(model, name, info.annotation, list(info.metadata)) for name, info in model.model_fields.items()
    }
    for reading in found.values():
        if reading.nested is not None:
            fields_of(reading.nested)
    return found


def classified_fields() -> dict[str, Kind]:
    """Every string field of every registered event, "<model>.<field>" -> its kind."""
    result: dict[str, Kind] = {}

    def walk(model: type[BaseModel]) -> None:
        for name, reading in fields_of(model).items():
            if reading.nested is not None:
                walk(reading.nested)
            elif reading.kind is not None:
                result[f"{model.__name__}.{name}"] = reading.kind

    for model in REGISTRY.values():
        walk(model)
    return result


class Leaf(NamedTuple):
    """One string in an event: where (`data.contact.email`), what kind, and its value."""

    parent: str
    name: str
    position: int | None  # in a list
    kind: Kind
    value: str

    @property
    def path(self) -> str:
        where = f"{self.parent}.{self.name}" if self.parent else self.name
        return where if self.position is None else f"{where}[{self.position}]"


# Times and the contract's Literals are validated by the models themselves: nothing of a
# person fits in them, so they are not screened.
UNSCREENED = frozenset({Kind.time, Kind.enum})


def leaves(envelope: Envelope, event: Event) -> Iterator[Leaf]:
    """Every string of the envelope and its event that could hold someone's data, classified
    (ids, codes, directory fields; not times and the contract's enums)."""
    for name in ("id", "source", "subject", "datacontenttype"):
        value = getattr(envelope, name)
        if isinstance(value, str):
            yield Leaf("", name, None, ENVELOPE[name], value)
    yield from _model_leaves(event, "data")


def _model_leaves(model: BaseModel, parent: str) -> Iterator[Leaf]:
    for name, reading in _screened_fields(type(model)):
        value = getattr(model, name)
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            for position, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _model_leaves(item, f"{parent}.{name}[{position}]")
                elif isinstance(item, str) and reading.kind is not None:
                    yield Leaf(parent, name, position, reading.kind, item)
        elif isinstance(value, BaseModel):
            yield from _model_leaves(value, f"{parent}.{name}")
        elif isinstance(value, str) and reading.kind is not None:
            yield Leaf(parent, name, None, reading.kind, value)


@cache
def _screened_fields(model: type[BaseModel]) -> tuple[tuple[str, Field], ...]:
    """The fields of `model` that can hold someone's data: strings that are screened, and
    nested models (numbers, booleans, times and enums are left out once, not per event)."""
    return tuple(
        (name, reading)
        for name, reading in fields_of(model).items()
        if reading.nested is not None or (reading.kind is not None and reading.kind not in UNSCREENED)
    )


# ------------------------------------------------------------------ the checks


def personal_data(text: str, *, identifier: bool = False) -> str | None:
    """What kind of personal data `text` holds, if any ("a CPR number", "a phone number", …).
    Generated UUIDs are looked past: their digits can look like either."""
    # The common cases first: no "@" and fewer than six digits hold none of them; a generated
    # id is a UUID.
    if "@" not in text and len(text) - len(text.translate(_WITHOUT_DIGITS)) < 6:
        return None
    if identifier and UUID_ID.match(text):
        return None
    plain = UUID.sub("-", text)
    if CPR_PATTERN.search(plain):
        return CPR
    if EMAIL.search(plain):
        return "an e-mail address"
    if (PHONE_IN_ID if identifier else PHONE).search(plain):
        return "a phone number"
    return None


def leaf_problem(leaf: Leaf) -> str | None:
    """Why `leaf` may not travel on the bus (a reason naming its path), or None."""
    kind, value = leaf.kind, leaf.value
    if kind in UNSCREENED:
        return None
    found = personal_data(value, identifier=kind is Kind.id or kind is Kind.uri)
    if found == CPR:
        return f"{leaf.path}: {CPR_MESSAGE}"
    if kind is Kind.work_contact:  # directory data: a work phone or e-mail is its point
        return None
    if found:
        return (
            f"{leaf.path}: contains {found}; events carry no personal data outside a directory's contact "
            "fields (send a code or an id, and keep contact data in the contact fields)"
        )
    if kind is Kind.id or kind is Kind.uri:
        if not (URI if kind is Kind.uri else IDENTIFIER).match(value):
            return f"{leaf.path}: {value!r} is not an identifier (letters, digits and - _ . : / only, no spaces)"
    elif kind is Kind.code:
        if not CODE.match(value):
            return f"{leaf.path}: {value!r} is not a code (letters, digits and - _ . : + only, no spaces)"
    elif kind is Kind.failure:
        if not FAILURE.match(value):
            return f"{leaf.path}: {value!r} is not a delivery failure code such as 'smtp: SMTPRecipientsRefused'"
    elif kind is Kind.age_band:
        if value not in AGE_BANDS:
            return f"{leaf.path}: unknown age band {value!r}; use one of {', '.join(AGE_BANDS)}"
    elif kind in VOCABULARIES:
        return _vocabulary_problem(kind, value, leaf)
    return None


def _vocabulary_problem(kind: Kind, value: str, leaf: Leaf) -> str | None:
    terms = profile()
    vocabularies: dict[Kind, Vocabulary[Any]] = {
        Kind.area: terms.area,
        Kind.category: terms.category,
        Kind.sector: terms.sector,
        Kind.target_group: terms.target_group,
        Kind.training_topic: terms.training_topic,
    }
    vocabulary = vocabularies[kind]
    if value in vocabulary:  # a code of the profile: the common case
        return None
    try:
        vocabulary.check(value, leaf.path, exact=True)
    except DomainError as exc:
        return exc.message
    return None


def content_problem(envelope: Envelope, event: Event) -> str | None:
    """The first string of the event that breaks the rules, as a reason; None if all pass."""
    unknown = sorted(set(envelope.model_extra or {}) - set(ENVELOPE))
    if unknown:
        return (
            f"{unknown[0]}: extension attribute {unknown[0]!r} is not part of Vejviser's contract and would "
            f"travel on the bus as posted; leave it out (known: {CONSENT_ATTRIBUTE})"
        )
    passed = _Passed.of(profile())
    if _passes(envelope, event, passed):
        return None
    for leaf in leaves(envelope, event):  # again, to name where the first problem sits
        problem = leaf_problem(leaf)
        if problem:
            return problem
    return None


def _passes(envelope: Envelope, event: Event, passed: _Passed) -> bool:
    """Whether every string passes, checked by kind and value alone: whether a string passes
    does not depend on where it sits (the path only names it in a reason), so the common case
    builds no paths. The envelope's id is new in every event: checked, never remembered."""
    if leaf_problem(Leaf("", "id", None, Kind.id, envelope.id)) is not None:
        return False
    strings: list[tuple[Kind, str]] = [
        (ENVELOPE[name], value)
        for name in ("source", "subject", "datacontenttype")
        if isinstance(value := getattr(envelope, name), str)
    ]
    _strings(event, strings)
    for kind, value in strings:
        if (kind, value) in passed.values:
            continue
        if leaf_problem(Leaf("", "", None, kind, value)) is not None:
            return False
        passed.add(kind, value)
    return True


def _strings(model: BaseModel, into: list[tuple[Kind, str]]) -> None:
    """The screened strings of `model` as (kind, value), nested models' included (as
    `_model_leaves` finds them)."""
    for name, reading in _screened_fields(type(model)):
        value = getattr(model, name)
        if value is None:
            continue
        kind = reading.kind
        if isinstance(value, str):
            if kind is not None:
                into.append((kind, value))
        elif isinstance(value, BaseModel):
            _strings(value, into)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                if isinstance(item, BaseModel):
                    _strings(item, into)
                elif isinstance(item, str) and kind is not None:
                    into.append((kind, item))


class _Passed:
    """The strings that passed, by kind, under one profile (its vocabularies decide some).

    A back-fill repeats its source, communities, referrers and codes in every event, and a
    string passes or fails whatever its path (the path only names it in the reason): a third
    of the screening's time. Bounded: emptied when full."""

    LIMIT = 50_000
    LONGEST = 100
    current: _Passed | None = None

    def __init__(self, terms: Profile) -> None:
        self.terms = terms
        self.values: set[tuple[Kind, str]] = set()

    @classmethod
    def of(cls, terms: Profile) -> _Passed:
        if cls.current is None or cls.current.terms is not terms:
            cls.current = cls(terms)
        return cls.current

    def add(self, kind: Kind, value: str) -> None:
        # Identifiers and codes only: a text (a community's description) could be long and is
        # rarely repeated, and a work contact need not sit in memory.
        if len(value) > self.LONGEST or kind in (Kind.directory_text, Kind.work_contact):
            return
        if len(self.values) >= self.LIMIT:
            self.values.clear()
        self.values.add((kind, value))


def stated_consent(envelope: Envelope) -> datetime | None:
    """The consent the sending system states (`consentdate`), as a UTC time; None if absent.
    Raises ValueError naming the attribute when it is not a date."""
    raw = (envelope.model_extra or {}).get(CONSENT_ATTRIBUTE)
    if raw is None or raw == "":
        return None
    return _consent_time(str(raw))


@lru_cache(maxsize=1024)  # a back-fill states a few dates over and over
def _consent_time(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{CONSENT_ATTRIBUTE}: {raw!r} is not a date; give it as 2025-03-01") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(hour=12, tzinfo=UTC)


def consent_problem(envelope: Envelope, event: Event, now: datetime | None = None) -> str | None:
    """A citizen's attributes or a loneliness score without stated consent, as a reason."""
    needs = _needs_consent(event)
    try:
        consent = stated_consent(envelope)
    except ValueError as exc:
        return str(exc)
    if consent is not None and consent > (now or datetime.now(UTC)) + timedelta(days=1):
        return f"{CONSENT_ATTRIBUTE}: consent cannot be given in the future"
    if needs and consent is None:
        return (
            f"{needs}: stored only with the citizen's consent; state it on the CloudEvent as the extension "
            f'attribute {CONSENT_ATTRIBUTE} (the date the citizen consented, e.g. "2025-03-01"), or leave '
            f"{needs} out"
        )
    if isinstance(event, LonelinessMeasured) and event.citizen_ref is None:
        return "data.citizen_ref: name the referral's citizen, so that the score is erased with them"
    return None


def _needs_consent(event: Event) -> str | None:
    if isinstance(event, CitizenRegistered):
        given = [name for name in ("age_band", "area", "target_groups") if getattr(event, name)]
        return f"data.{given[0]}" if given else None
    if isinstance(event, LonelinessMeasured):
        return "data.score"
    return None


def screen(envelope: Envelope, event: Event) -> str | None:
    """Why the event may not enter (one reason a person can act on), or None."""
    try:
        return content_problem(envelope, event) or consent_problem(envelope, event)
    except Unclassified as exc:  # a model's field nobody classified: refuse rather than pass it on
        return f"type: {envelope.type} cannot be screened ({exc}); tell Vejviser's maintainers"
