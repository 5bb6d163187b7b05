"""The privacy register: what personal data Vejviser holds, about whom, where, why, on which
basis, for how long, and who receives it. The code's own lists, from which the record of
processing activities and the DPIA outline in docs/privacy/ are generated
(`vejviser/privacy_docs.py`), so the documents a municipality needs stay current.

Every column of every service's tables and every field of every event is classified here;
tests/unit/test_privacy_register.py walks the SQLAlchemy metadata and the event registry and
fails for anything unclassified (or classified but gone), so a new column is a privacy
decision taken in review, not found later by an auditor.

Pure data and pure functions: the numbers retention is written in (`Limits`) and the bus
subscriptions recipients are derived from are handed in by the generator, which reads them
from the settings, the profile and the services' consumer registries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from shared.principal import Role
from shared.purposes import PURPOSES, PurposeCode

# --------------------------------------------------------------------------- data subjects

Subject = Literal["citizen", "volunteer", "professional"]

SUBJECTS: dict[Subject, str] = {
    "citizen": (
        "Citizens referred to a community: adults who are lonely or at risk of it, often with mental "
        "illness, disability or chronic illness. Outside the referrals service known only by a pseudonym."
    ),
    "volunteer": (
        "Volunteers: ambassadors (volunteer referrers and companions, some once referred themselves) "
        "and the contact persons of communities and associations."
    ),
    "professional": (
        "Professionals: guides (municipal staff), referring professionals (health centre, job centre, "
        "GP, social psychiatry, library …), and the analysts, administrators and data protection "
        "officer who use Vejviser."
    ),
}

# --------------------------------------------------------------------------- data categories

CategoryCode = Literal[
    "none",
    "statistics",
    "citizen_ref",
    "citizen_contact",
    "citizen_consent",
    "citizen_attributes",
    "citizen_target_groups",
    "support_needs",
    "loneliness",
    "referral_note",
    "referral_facts",
    "referral_draft",
    "citizen_key",
    "audit_trail",
    "event_copy",
    "work_identity",
    "work_contact",
    "actor_activity",
    "community_contact",
    "work_notes",
    "messages",
    "login",
]

CONSENT = "Consent of the citizen (art. 6(1)(a))"
EXPLICIT = "Explicit consent of the citizen (art. 9(2)(a))"
PUBLIC_TASK = "Public task of the municipality (art. 6(1)(e))"
SECURITY = "Legal obligation to secure the processing and account for it (art. 6(1)(c) with art. 5(2) and 32)"


@dataclass(frozen=True)
class DataCategory:
    code: CategoryCode
    name: str
    description: str
    # Whose data it is; empty: no personal data.
    subjects: tuple[Subject, ...]
    # The legal basis proposed; the municipality confirms it (docs/privacy/records-of-processing.md).
    basis: str = ""
    # A special category of personal data (GDPR art. 9): health, disability, ethnic origin …
    special: bool = False

    @property
    def personal(self) -> bool:
        return bool(self.subjects)


CATEGORIES: dict[CategoryCode, DataCategory] = {
    c.code: c
    for c in (
        DataCategory(
            "none",
            "No personal data",
            "Communities, organisations, schedules, capacity, profile codes and technical columns "
            "(ids of events and rows, versions, positions). An association's own e-mail or phone is "
            "the association's.",
            (),
        ),
        DataCategory(
            "statistics",
            "Aggregated statistics",
            "Counts and rates per period, area and target group; small counts are suppressed when shown.",
            (),
        ),
        DataCategory(
            "citizen_ref",
            "Citizen pseudonym",
            "A random reference (`citizen_ref`) that links a citizen's data across the services; it "
            "carries no meaning and no date of its own.",
            ("citizen",),
            CONSENT,
        ),
        DataCategory(
            "citizen_contact",
            "Citizen's contact data",
            "Name, phone and e-mail, sealed with the citizen's own key; the first name and phone are "
            "shown to the community and the companion only when the citizen agreed.",
            ("citizen",),
            CONSENT,
        ),
        DataCategory(
            "citizen_consent",
            "Consent record",
            "The purpose the citizen consented to, the date, who recorded it, and whether the citizen "
            "agreed to share contact data with the community and the companion.",
            ("citizen",),
            CONSENT,
        ),
        DataCategory(
            "citizen_attributes",
            "Citizen's coarse attributes",
            "Age band, area and languages, as profile codes, only with consent; in the referrals "
            "database sealed with the citizen's own key.",
            ("citizen",),
            CONSENT,
        ),
        DataCategory(
            "citizen_target_groups",
            "Target groups",
            "Profile codes such as mental health, disability, chronic illness or newcomer: they may "
            "reveal health, disability or ethnic origin. Only with consent; in the referrals database "
            "sealed with the citizen's own key.",
            ("citizen",),
            EXPLICIT,
            special=True,
        ),
        DataCategory(
            "support_needs",
            "Support needs",
            "Whether the citizen needs someone to go along, and whether the community should show "
            "special consideration: flags that may reveal health or disability.",
            ("citizen",),
            EXPLICIT,
            special=True,
        ),
        DataCategory(
            "loneliness",
            "Loneliness score",
            "The sum (3–9) of the three-item UCLA loneliness scale at the referral and at 12 weeks, "
            "asked with the citizen's consent; the answers themselves are not kept.",
            ("citizen",),
            EXPLICIT,
            special=True,
        ),
        DataCategory(
            "referral_note",
            "Referral note",
            "Free text from the referrer about what matters to the citizen; it may hold anything, health included.",
            ("citizen",),
            EXPLICIT,
            special=True,
        ),
        DataCategory(
            "referral_facts",
            "Referral facts",
            "Which community, who referred and who went along, status and dates, channel, "
            "participation answers, rejection reason, proposed first visit, bridges between "
            "communities; pseudonymous (by citizen_ref and referral id).",
            ("citizen",),
            CONSENT,
        ),
        DataCategory(
            "referral_draft",
            "Referral draft",
            "The web wizard's answers while a referral is being written (at most a day): the chosen "
            "community, area, target groups and support needs; the contact data, loneliness answers "
            "and note encrypted with the web client's draft key.",
            ("citizen",),
            EXPLICIT,
            special=True,
        ),
        DataCategory(
            "citizen_key",
            "Citizen's key",
            "The citizen's own data key, stored only wrapped by a key-encryption key; destroyed at erasure.",
            ("citizen",),
            SECURITY,
        ),
        DataCategory(
            "audit_trail",
            "Audit trail",
            "Who read which citizen's data, when, from which service and for which purpose.",
            ("citizen", "professional", "volunteer"),
            SECURITY,
        ),
        DataCategory(
            "event_copy",
            "Copies of events",
            "A service's published events kept in its outbox until sent and then for the outbox "
            "retention; they hold what the events hold (see the bus below).",
            ("citizen", "professional", "volunteer"),
            EXPLICIT,
            special=True,
        ),
        DataCategory(
            "work_identity",
            "Work identity",
            "Name, role, organisation, sector, area, languages and whether the person offers to "
            "go along with citizens.",
            ("professional", "volunteer"),
            PUBLIC_TASK,
        ),
        DataCategory(
            "work_contact",
            "Work contact data",
            "The work e-mail and phone of a referrer or volunteer, and the address a message went to.",
            ("professional", "volunteer"),
            PUBLIC_TASK,
        ),
        DataCategory(
            "actor_activity",
            "Activity in the programme",
            "Who recruited whom, readiness level, trainings, outreach done, accompaniments declined, "
            "needs and meetings recorded.",
            ("professional", "volunteer"),
            PUBLIC_TASK,
        ),
        DataCategory(
            "community_contact",
            "Community contact person",
            "Name, e-mail and phone of a community's contact person, and whether they agreed to be "
            "shown in the public catalogue.",
            ("volunteer",),
            "Public task for staff use (art. 6(1)(e)); consent of the contact person for publication (art. 6(1)(a))",
        ),
        DataCategory(
            "work_notes",
            "Work notes",
            "Free text staff write about the network (an unmet need, a meeting's topic and notes); "
            "not meant to name anyone, but not screened for names.",
            ("professional", "volunteer"),
            PUBLIC_TASK,
        ),
        DataCategory(
            "messages",
            "Messages and their settings",
            "Messages to referrers, volunteers and community contacts (rule, recipient, the referral "
            "facts they are written from, delivery state), timers, channel preferences and webhooks.",
            ("professional", "volunteer"),
            PUBLIC_TASK,
        ),
        DataCategory(
            "login",
            "Login and sessions",
            "Web sessions, login attempts and e-mailed login links: actor id, role, name and "
            "communities; tokens only as hashes, addresses only as keyed hashes.",
            ("professional", "volunteer"),
            SECURITY,
        ),
    )
}

# --------------------------------------------------------------------------- processing activities

ActivityCode = Literal["referral", "directory", "catalogue", "messages", "statistics", "rights", "login"]


@dataclass(frozen=True)
class Activity:
    code: ActivityCode
    name: str
    name_da: str
    purpose: str
    # The read purposes (shared/purposes.py) the audit log records under this activity.
    purposes: tuple[PurposeCode, ...] = ()


ACTIVITIES: dict[ActivityCode, Activity] = {
    a.code: a
    for a in (
        Activity(
            "referral",
            "Referral of citizens to communities",
            "Henvisning til fællesskaber",
            "A referrer (professional or ambassador) refers a lonely citizen to a community with the "
            "citizen's consent; the community receives them, a volunteer may go along the first time, "
            "and the referrer and guides follow up at 4 and 12 weeks.",
            ("referral_followup", "worklist", "reception", "accompaniment", "contact_citizen"),
        ),
        Activity(
            "directory",
            "Directory of referrers and volunteers",
            "Henviser- og frivilligkartotek",
            "Guides build the network of referrers and ambassadors: who is active, who recruited "
            "whom, trainings, readiness and outreach.",
        ),
        Activity(
            "catalogue",
            "Catalogue of communities",
            "Katalog over fællesskaber",
            "Communities and associations, their schedules, capacity and contact persons, published "
            "to referrers and, without the contact person unless they agreed, to the public (HSDS).",
        ),
        Activity(
            "messages",
            "Messages to referrers, volunteers and communities",
            "Beskeder og påmindelser",
            "Nudges and follow-up questions by e-mail, SMS or webhook, and each person's inbox.",
        ),
        Activity(
            "statistics",
            "Evaluation and statistics",
            "Evaluering og statistik",
            "Pseudonymous projections of the events, from which aggregated metrics of the programme "
            "are computed for the municipality's evaluation.",
        ),
        Activity(
            "rights",
            "Data subjects' rights and supervision",
            "Registreredes rettigheder og tilsyn",
            "The audit log of every read of citizen-linked data, citizens' access requests, erasure "
            "on request and by the retention job, and the data protection officer's supervision.",
            ("access_request", "supervision", "erasure"),
        ),
        Activity(
            "login",
            "Login and sessions",
            "Log-ind og sessioner",
            "Authenticating staff and volunteers in the web client (the municipality's identity "
            "provider, or an e-mailed login link for volunteers).",
        ),
    )
}

# --------------------------------------------------------------------------- retention

RetentionCode = Literal[
    "citizen",
    "erased",
    "citizen_facts",
    "key",
    "audit",
    "directory",
    "catalogue",
    "copy",
    "tombstone",
    "messages",
    "projection",
    "statistics",
    "outbox",
    "inbox",
    "draft",
    "session",
    "login_link",
    "login_attempt",
    "login_mail_ask",
    "tally",
    "kept",
    "technical",
]


@dataclass(frozen=True)
class Limits:
    """The numbers retention is written in, from the settings and profile in force
    (`vejviser/privacy_docs.limits`)."""

    retention_months: int  # the profile's `retention_months_after_end`
    outbox_hours: float
    draft_hours: float
    session_idle_minutes: float
    session_absolute_minutes: float
    login_link_minutes: float
    login_mail_window_minutes: float


def _n(value: float) -> str:
    return f"{value:g}"


def erasure_rule(limits: Limits) -> str:
    """When a citizen is erased: on request, and by the nightly retention job."""
    return (
        f"on request, or by the nightly retention job {limits.retention_months} months after the citizen's "
        "last referral ended (profile `retention_months_after_end`; a referral that reached the welcome ends "
        "with its 12-week follow-up, and a citizen never referred counts from registration; never while a "
        "referral is open)"
    )


def retention_text(code: RetentionCode, limits: Limits) -> str:
    """How long a table's rows are kept; "erasure" is the citizen's, as `erasure_rule` says."""
    texts: dict[RetentionCode, str] = {
        "citizen": (
            "Until the citizen's erasure, which removes the sealed data, the consent record and the "
            "attributes; the pseudonym and the dates of registration and erasure stay."
        ),
        "erased": "Deleted at the citizen's erasure.",
        "citizen_facts": (
            "Kept after the citizen's erasure as pseudonymous facts for statistics; the sealed note is removed then."
        ),
        "key": (
            "Until the citizen's erasure, which destroys the key first (crypto-shredding); a tombstone "
            "(the pseudonym and when) stays so that no key is made for that citizen again."
        ),
        "audit": (
            "Kept: the log is append-only (no update or delete path; a database trigger refuses both). "
            "After erasure its entries point to a pseudonym with nothing readable behind it."
        ),
        "directory": (
            "While the person takes part. Vejviser has no function yet to remove a referrer or volunteer; "
            "an administrator removes them in the database."
        ),
        "catalogue": (
            "While the community is listed; an archived community stays archived. A contact person can "
            "correct or remove their own details, and staff can remove them."
        ),
        "copy": "A copy kept in step with its source's events: a change or removal at the source replaces it here.",
        "messages": (
            "Kept as the inbox and history of messages; the citizen's erasure deletes every message about "
            "their referrals with its deliveries (queued ones are never sent) and cancels their timers."
        ),
        "tombstone": (
            "Kept in step with the referrals' events; the citizen's erasure leaves only that the referral "
            "existed, whose it was and to which community, so that nothing about it is planned again."
        ),
        "projection": (
            "Kept for statistics; the citizen's erasure removes their attributes and loneliness scores from "
            "the projection, and the pseudonym and dates stay."
        ),
        "statistics": "Kept (aggregates; no citizen is named).",
        "outbox": (
            f"Until published, then {_n(limits.outbox_hours)} hours (`OUTBOX_RETENTION_HOURS`); "
            "a citizen's registration or score not at all once published; "
            "the stream keeps the event as set for the stream."
        ),
        "inbox": "Kept (event ids only, so a redelivered event has no second effect).",
        "tally": (
            "Today's counts only (the daily cap's): a day's counts are deleted when the first message "
            "of a later day is decided."
        ),
        "draft": (
            f"Deleted when the referral is sent, when consent is refused, and {_n(limits.draft_hours)} hours "
            "after the last change."
        ),
        "session": (
            f"Deleted {_n(limits.session_idle_minutes)} minutes after the last request "
            f"(`SESSION_IDLE_MINUTES`) and {_n(limits.session_absolute_minutes)} minutes after login at most "
            "(`SESSION_ABSOLUTE_MINUTES`), or at logout."
        ),
        "login_link": (
            f"Deleted when it expires, {_n(limits.login_link_minutes)} minutes after it was mailed "
            "(`LOGIN_LINK_MINUTES`)."
        ),
        "login_attempt": "Deleted when the login completes, or minutes later when it is abandoned.",
        "login_mail_ask": (
            f"Deleted after {_n(limits.login_mail_window_minutes)} minutes (`LOGIN_MAIL_WINDOW_MINUTES`), "
            "or when the link it gave is used."
        ),
        "kept": "Kept; Vejviser deletes none of these rows automatically yet.",
        "technical": "Kept (no personal data).",
    }
    return texts[code]


# --------------------------------------------------------------------------- where it is held


@dataclass(frozen=True)
class Table:
    service: str
    name: str
    activity: ActivityCode
    retention: RetentionCode
    columns: Mapping[str, CategoryCode]
    # The database it lives in when that is not the service's own (the key store).
    database: str = ""
    # Further categories a column holds besides its own (one sealed JSON of several kinds).
    also: Mapping[str, tuple[CategoryCode, ...]] = field(default_factory=dict)

    @property
    def categories(self) -> tuple[CategoryCode, ...]:
        held = (c for column, code in self.columns.items() for c in (code, *self.also.get(column, ())))
        return tuple(dict.fromkeys(held))

    @property
    def where(self) -> str:
        return f"{self.service}{f' ({self.database})' if self.database else ''}: {self.name}"


def _choice(value: str, allowed: Any, what: str, line: str) -> Any:
    if value not in get_args(allowed):
        raise ValueError(f"privacy register: unknown {what} {value!r} in {line.strip()!r}")
    return value


Also = dict[str, tuple[CategoryCode, ...]]


def _blocks(text: str) -> list[tuple[str, dict[str, CategoryCode], Also]]:
    """Parse the register's text: a heading line, then indented `category: names` lines. A
    name written `+name` is a column classified on another line that holds this category too."""
    blocks: list[tuple[str, dict[str, CategoryCode], Also]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            blocks.append((line.strip(), {}, {}))
            continue
        category, _, names = line.partition(":")
        code: CategoryCode = _choice(category.strip(), CategoryCode, "data category", line)
        heading, columns, also = blocks[-1]
        for name in names.split():
            if name.startswith("+"):
                also[name[1:]] = (*also.get(name[1:], ()), code)
                continue
            if name in columns:
                raise ValueError(f"privacy register: {heading} classifies {name!r} twice")
            columns[name] = code
    for heading, columns, also in blocks:
        stray = sorted(set(also) - set(columns))
        if stray:
            raise ValueError(f"privacy register: {heading} adds a category to {stray[0]!r} it does not classify")
    return blocks


def _tables(text: str) -> tuple[Table, ...]:
    tables = []
    for heading, columns, also in _blocks(text):
        where, activity, retention, *database = heading.split(maxsplit=3)
        service, _, name = where.partition(".")
        tables.append(
            Table(
                service,
                name,
                _choice(activity, ActivityCode, "activity", heading),
                _choice(retention, RetentionCode, "retention", heading),
                columns,
                database[0] if database else "",
                also,
            )
        )
    return tuple(tables)


# Every table of every service: `service.table activity retention [database]`, then its
# columns per data category. shared/outbox.py and shared/inbox.py add `outbox` and `inbox`
# to every service's metadata.
TABLES: tuple[Table, ...] = _tables(
    """
referrals.citizen referral citizen
    citizen_ref: citizen_ref
    citizen_contact: contact_ciphertext
    # One sealed JSON: age band, area, languages, target groups, the consent's date and recorder.
    citizen_target_groups: attributes_ciphertext
    citizen_attributes: +attributes_ciphertext
    citizen_consent: consent_purpose_ciphertext +attributes_ciphertext
    referral_facts: registered_by registered_at erased_at
referrals.referral referral citizen_facts
    referral_facts: referral_id citizen_ref community_id referrer_id channel override_full status companion_id
    referral_facts: rejection_reason participation last_follow_up visit_at arranged_at welcomed_at created_at updated_at
    support_needs: needs_accompaniment special_considerations
    referral_note: note_ciphertext
    citizen_consent: share_contact share_note
    none: version
referrals.loneliness referral erased
    referral_facts: referral_id
    loneliness: moment score time
referrals.timeline referral kept
    none: id event_id
    referral_facts: referral_id event_type source time status data
referrals.bridge referral kept
    none: event_id
    citizen_ref: citizen_ref
    referral_facts: from_community_id to_referral_id time
referrals.accompaniment_decline referral kept
    actor_activity: referral_id actor_id at
referrals.citizen_key referral key key store
    citizen_ref: citizen_ref
    citizen_key: kek_id wrapped_key created_at destroyed_at
referrals.audit_log rights audit
    none: id
    citizen_ref: citizen_ref
    audit_trail: at actor_id role service client referral_id what purpose
referrals.referrer directory directory
    work_identity: actor_id role name sector organization area languages offers_accompaniment
    work_contact: contact_email contact_phone
    actor_activity: activated_by activated_at readiness readiness_at
    citizen_ref: citizen_ref
referrals.training directory directory
    none: event_id
    actor_activity: actor_id trained_on topic
referrals.outreach directory directory
    none: event_id
    actor_activity: actor_id kind count area time
referrals.community referral copy
    none: community_id name area kind categories accepts_special_needs capacity_status capacity_available
    none: capacity_total archived updated_at
referrals.outbox referral outbox
    none: position event_id created_at sent_at failed_at failure
    citizen_ref: subject
    event_copy: payload
referrals.inbox referral inbox
    none: consumer event_id processed_at

catalogue.organization catalogue catalogue
    none: id hsds_id name kind description email phone website created_at updated_at archived_at
catalogue.community catalogue catalogue
    none: id hsds_id organization_id name description categories kind starts_on ends_on languages cost
    none: min_age max_age accessibility accepts_special_needs accompaniment_welcome place_name address
    none: postal_code city area latitude longitude capacity_total capacity_available capacity_status
    none: capacity_updated_at created_at updated_at archived_at revision
    community_contact: contact_name contact_email contact_phone contact_public
catalogue.schedule catalogue catalogue
    none: id community_id position freq weekday week_of_month opens_at closes_at
catalogue.need catalogue kept
    none: id area category recorded_on recorded_at
    work_notes: description
    actor_activity: recorded_by
catalogue.network_meeting catalogue kept
    none: id held_on organization_ids recorded_at
    work_notes: topic notes
    actor_activity: organizer_id
catalogue.referral_pressure catalogue copy
    referral_facts: referral_id community_id state
catalogue.catalogue_revision catalogue technical
    none: id value
catalogue.outbox catalogue outbox
    none: position event_id created_at sent_at failed_at failure subject
    event_copy: payload
catalogue.inbox catalogue inbox
    none: consumer event_id processed_at

notifications.recipient messages copy
    work_identity: actor_id role name area offers_accompaniment
    work_contact: email phone
    actor_activity: activated_at last_referral_at
notifications.community messages copy
    none: community_id name area has_room archived
    community_contact: contact_name contact_email contact_phone
notifications.referral messages tombstone
    referral_facts: referral_id referrer_id community_id created_at accompaniment_arranged_at accompanied_at
    referral_facts: welcomed_at rejected_at rejection_reason cancelled_at companion_id no_show_at erased_at
    support_needs: needs_accompaniment special_considerations
    citizen_ref: citizen_ref
notifications.timer messages messages
    none: id
    messages: rule subject_id due_at status created_at settled_at
    referral_facts: referral_id
notifications.nudge messages messages
    messages: id dedup_key rule subject_id recipient_id context status created_at sent_at read_at
    referral_facts: referral_id
notifications.delivery messages messages
    messages: id nudge_id channel webhook_id status attempts next_attempt_at last_error created_at sent_at
    work_contact: address
notifications.personal_tally messages tally
    messages: day recipient_id deliveries
notifications.preference messages kept
    messages: recipient_id channels opted_out quiet_start quiet_end daily_cap paused_until updated_at
notifications.webhook messages kept
    messages: id owner_id url secret rules active created_at
notifications.outbox messages outbox
    none: position event_id created_at sent_at failed_at failure subject
    event_copy: payload
notifications.inbox messages inbox
    none: consumer event_id processed_at

analytics.an_citizen statistics projection
    citizen_ref: citizen_ref citizen_key
    referral_facts: registered_us erased_us
    citizen_attributes: age_band area
    citizen_target_groups: target_groups
analytics.an_referral statistics projection
    citizen_ref: citizen_ref citizen_key
    referral_facts: referral_id created_us community_id referrer_id accepted_us arranged_us accompanied_us
    referral_facts: welcomed_us welcome_community_id rejected_us rejection_reason cancelled_us
    referral_facts: participating_4w_us participating_12w_us no_show_us citizen_erased_us
    support_needs: needs_accompaniment
    loneliness: loneliness_referral_us loneliness_referral loneliness_week_12_us loneliness_week_12
analytics.an_bridge statistics kept
    none: event_id
    citizen_ref: citizen_ref
    referral_facts: from_community_id to_referral_id time_us
analytics.an_actor statistics kept
    work_identity: actor_id role sector area
    actor_activity: activated_us activated_by
    citizen_ref: citizen_ref
analytics.an_readiness statistics kept
    actor_activity: actor_id aware_us trained_us referring_us accompanying_us
analytics.an_outreach statistics kept
    none: event_id
    actor_activity: time_us actor_id kind count area
analytics.an_community statistics projection
    none: community_id area_us area kind_us kind name_us name
analytics.an_capacity statistics projection
    none: event_id community_id time_us status
analytics.an_need statistics projection
    none: need_id time_us area category
analytics.an_nudge statistics projection
    none: event_id time_us rule channel delivered
analytics.an_snapshot statistics statistics
    none: snapshot_id computed_at label
    statistics: body
analytics.outbox statistics outbox
    none: position event_id created_at sent_at failed_at failure subject
    statistics: payload
analytics.inbox statistics inbox
    none: consumer event_id processed_at

web.web_draft referral draft
    none: draft_id
    login: session_hash actor_id
    referral_draft: answers contact_ciphertext updated_at
web.web_session login session
    login: id_hash actor_id role name communities csrf_token created_at last_seen_at
web.web_login_attempt login login_attempt
    login: state nonce code_verifier next_path created_at
web.web_login_link login login_link
    login: token_hash actor_id role name communities next_path created_at expires_at used_at
web.web_login_mail_ask login login_mail_ask
    login: id key token_hash created_at
# Municipal systems (not people) that get tokens; the secret only as a slow hash.
web.web_oauth_client login technical
    none: client_id name secret_hash audiences created_at revoked_at
# The web client is not on the bus: it publishes and consumes nothing.
web.outbox login outbox
    none: position event_id created_at sent_at failed_at failure subject payload
web.inbox login inbox
    none: consumer event_id processed_at
"""
)

TABLE_BY_KEY: dict[tuple[str, str], Table] = {(t.service, t.name): t for t in TABLES}


@dataclass(frozen=True)
class Holding:
    """One column holding one category of data: where a category is held."""

    table: Table
    column: str

    @property
    def where(self) -> str:
        return f"{self.table.where}.{self.column}"


def holdings(category: CategoryCode) -> list[Holding]:
    return [
        Holding(t, column)
        for t in TABLES
        for column, c in t.columns.items()
        if c == category or category in t.also.get(column, ())
    ]


# --------------------------------------------------------------------------- the bus

# Every field of every event type, per category: what travels on the bus, and so what a
# consumer of an event type receives. A nested model (a contact) is classified as its field.
EVENT_FIELDS: dict[str, dict[str, CategoryCode]] = {
    event: fields
    for event, fields, _ in _blocks(
        """
CommunityRegistered
    none: community_id organization_id name categories area kind accepts_special_needs capacity_total
    none: accompaniment_welcome description
    community_contact: contact
CommunityUpdated
    none: community_id organization_id name categories area kind accepts_special_needs accompaniment_welcome
    none: description
    community_contact: contact
CommunityCapacityChanged
    none: community_id available total status
CommunityArchived
    none: community_id
NeedRecorded
    none: need_id area category
    work_notes: description
    actor_activity: recorded_by
NetworkMeetingHeld
    none: meeting_id organization_ids
    work_notes: topic
    actor_activity: organizer_id

ReferrerActivated
    work_identity: actor_id role sector organization area name languages offers_accompaniment
    work_contact: contact
    actor_activity: activated_by
    citizen_ref: citizen_ref
ReadinessRecorded
    actor_activity: actor_id level
TrainingRecorded
    actor_activity: actor_id trained_on topic
CitizenRegistered
    citizen_ref: citizen_ref
    citizen_attributes: age_band area
    citizen_target_groups: target_groups
ReferralCreated
    citizen_ref: citizen_ref
    referral_facts: referral_id community_id referrer_id channel
    support_needs: needs_accompaniment special_considerations
ReferralAccepted
    referral_facts: referral_id
AccompanimentArranged
    referral_facts: referral_id companion_id
CitizenAccompanied
    referral_facts: referral_id companion_id
WelcomeConfirmed
    referral_facts: referral_id community_id confirmed_by
ParticipationConfirmed
    referral_facts: referral_id weeks_after still_participating
FirstVisitProposed
    referral_facts: referral_id visit_at proposed_by
NoShowReported
    referral_facts: referral_id reported_by
ReferralRejected
    referral_facts: referral_id reason
ReferralCancelled
    referral_facts: referral_id reason
CitizenBridged
    citizen_ref: citizen_ref
    referral_facts: from_community_id to_referral_id
OutreachRecorded
    actor_activity: actor_id kind count area
LonelinessMeasured
    citizen_ref: citizen_ref
    referral_facts: referral_id
    loneliness: moment score
CitizenErased
    citizen_ref: citizen_ref
RetentionApplied
    statistics: run_on citizens_erased referrals_cancelled

NudgeSent
    messages: nudge_id rule recipient_id channel
    referral_facts: referral_id
NotificationDeliveryFailed
    messages: nudge_id rule recipient_id channel reason
    referral_facts: referral_id

MetricsSnapshotPublished
    statistics: snapshot_id period computed_at
"""
    )
}


def event_categories(event_name: str) -> tuple[CategoryCode, ...]:
    """The categories of personal data an event type carries."""
    found = dict.fromkeys(EVENT_FIELDS[event_name].values())
    return tuple(c for c in found if CATEGORIES[c].personal)


# One durable consumer as `shared.runtime.Runtime.consumed` lists it: (durable, context, event types).
Consumed = tuple[str, str, Iterable[type]]


@dataclass(frozen=True)
class BusRecipient:
    """A service that receives events of another context, and the personal data they carry."""

    service: str
    context: str
    events: tuple[str, ...]
    categories: tuple[CategoryCode, ...] = field(default=())


def bus_recipients(consumed: Mapping[str, Iterable[Consumed]]) -> list[BusRecipient]:
    """Which service receives which event types of which context: from the services' consumer
    registries (each runtime's `consumed`), so the documents follow the subscriptions."""
    found: dict[tuple[str, str], dict[str, None]] = {}
    for service in sorted(consumed):
        for _durable, context, models in consumed[service]:
            found.setdefault((service, context), {}).update(dict.fromkeys(m.__name__ for m in models))
    recipients = []
    for (service, context), names in sorted(found.items()):
        events = tuple(sorted(names))
        categories = dict.fromkeys(c for e in events for c in event_categories(e))
        recipients.append(BusRecipient(service, context, events, tuple(sorted(categories))))
    return recipients


# --------------------------------------------------------------------------- people and outside recipients

# What each role is shown of citizen-linked data (services/referrals/visibility.py, access.py).
ROLE_ACCESS: dict[Role, str] = {
    Role.guide: (
        "Municipal staff: every citizen's record, contact data, referrals, notes and timelines "
        "(every read audited); erases citizens and answers access requests; statistics without "
        "suppression of small counts."
    ),
    Role.admin: "As a guide, plus the audit log and the retention run.",
    Role.professional: "The citizens they registered or referred: record, contact data, their referrals and notes.",
    Role.ambassador: (
        "A volunteer referrer: the citizens they referred, as a professional does but without "
        "contact data; as a companion, the referral's community and time and, once arranged, the "
        "first name and phone the citizen agreed to share, and the note when the referrer shared it."
    ),
    Role.community_contact: (
        "Referrals to their own communities: status, support needs, the proposed visit, the first "
        "name and phone the citizen agreed to share, and the note when the referrer shared it; not "
        "the citizen's attributes."
    ),
    Role.analyst: "Aggregated statistics only (small counts suppressed); no citizen-level data.",
    Role.dpo: "The audit log and citizens' exports for access requests; no worklists.",
    Role.municipal_system: (
        "Posts events from municipal systems (ingest) under the APIs' rules, and registers webhooks that "
        "receive message facts; no citizen-level reads."
    ),
}


@dataclass(frozen=True)
class OutsideRecipient:
    name: str
    receives: str
    categories: tuple[CategoryCode, ...]


OUTSIDE_RECIPIENTS: tuple[OutsideRecipient, ...] = (
    OutsideRecipient(
        "Mail server (the municipality's SMTP relay) and, when configured, an SMS gateway",
        "Messages to referrers, volunteers and community contacts: the referral's facts (community, "
        "time, support needs), never the citizen's identity.",
        ("work_contact", "messages", "referral_facts", "support_needs"),
    ),
    OutsideRecipient(
        "Webhook endpoints registered by a municipal system or an administrator",
        "Per message: its rule, recipient id, referral id and title, posted to the registered URL.",
        ("messages", "referral_facts"),
    ),
    OutsideRecipient(
        "The public (HSDS feed and search without login)",
        "Communities and associations; a contact person only when they agreed to be public.",
        ("community_contact",),
    ),
    OutsideRecipient(
        "The municipality's identity provider (OpenID Connect)",
        "Login of staff: who logs in to Vejviser and when.",
        ("login",),
    ),
)


def purposes_of(activity: Activity) -> list[tuple[str, str, str]]:
    """(code, Danish label, description) of the read purposes recorded under an activity."""
    return [(code, PURPOSES[code].label_da, PURPOSES[code].description) for code in activity.purposes]
