"""The columnar snapshot (`snapshot.Snapshot`) from the tables `store.load_snapshot` reads:
every id and attribute coded once, here, so the metrics only ever touch arrays."""

from __future__ import annotations

import numpy as np

from services.analytics.columns import (
    ActorColumns,
    Codes,
    Tables,
    Times,
    code_ids,
    code_keys,
    encode,
    flags,
    scattered,
    times,
    vocabulary,
)
from services.analytics.domain import READINESS_LEVELS
from services.analytics.snapshot import PRACTICE_TRACK, Actors, Citizens, Referrals, Snapshot


def build(tables: Tables) -> Snapshot:
    """The snapshot of `tables` (see `columns.Tables`); referral stages come as the bit set of
    the `snapshot.STAGES` reached by `as_of`, welcomes only when by `as_of`."""
    actor_table, citizen_table = tables.actors, tables.citizens
    referral_table, community_table = tables.referrals, tables.communities

    # Referrer codes sort as the ids do: the first referral's tie-break compares them.
    activated_by_ids = [activator or None for activator in actor_table.activated_by]
    activators = [activator for activator in activated_by_ids if activator is not None]
    actor_ids, _, actor_row, (activator_codes, referrer_codes) = code_ids(
        actor_table.actor_id, activators, referral_table.referrer_id, ordered=True
    )
    activated_by = np.full(len(actor_table.actor_id), -1, np.int64)
    activated_by[[row for row, activator in enumerate(activated_by_ids) if activator is not None]] = activator_codes
    roles, sectors, actors = _actors(actor_table, actor_ids, actor_row, activated_by)

    areas = vocabulary(citizen_table.area, community_table.area)
    citizen_keys, (citizen_codes, citizen_row) = code_keys(referral_table.citizen_key, citizen_table.citizen_key)
    group_column = [groups or None for groups in citizen_table.target_groups]
    group_sets = vocabulary(group_column)
    citizens = Citizens(
        area=scattered(encode(citizen_table.area, areas), citizen_row, citizen_keys.size),
        groups=scattered(encode(group_column, group_sets), citizen_row, citizen_keys.size),
    )

    community_ids, _, community_row, (community_codes,) = code_ids(
        community_table.community_id, referral_table.community_id
    )
    community_area = np.full(len(community_ids), -1, np.int64)
    community_area[community_row] = encode(community_table.area, areas)
    practice_track = np.zeros(len(community_ids), np.bool_)
    practice_track[community_row] = [kind == PRACTICE_TRACK for kind in community_table.kind]

    reasons = vocabulary(referral_table.rejection_reason)
    referrals = Referrals(
        created=times(referral_table.created_us),
        citizen=citizen_codes,
        community=community_codes,
        referrer=referrer_codes,
        needs_accompaniment=flags(referral_table.needs_accompaniment),
        stages=np.fromiter(referral_table.stages, np.int64, len(referral_table.stages)),
        welcomed=times(referral_table.welcomed_us),
        rejection_reason=encode(referral_table.rejection_reason, reasons),
        loneliness=np.fromiter(referral_table.loneliness, np.int64, len(referral_table.loneliness)),
    )
    return Snapshot(
        as_of_us=tables.as_of_us,
        actor_ids=actor_ids,
        actors=actors,
        roles=roles,
        sectors=sectors,
        citizen_keys=citizen_keys,
        citizens=citizens,
        group_sets=group_sets,
        community_ids=community_ids,
        community_area=community_area,
        practice_track=practice_track,
        areas=areas,
        referrals=referrals,
        reasons=reasons,
        capacity=tables.capacity,
        needs=tables.needs,
        outreach=tables.outreach,
        bridges=tables.bridges,
        readiness=_readiness(tables, actor_ids),
    )


def _readiness(tables: Tables, actor_ids: list[str | None]) -> Times:
    """Per actor code, the earliest evidence of each readiness level; referrers with evidence
    but no code (never activated, never referred) are not in any funnel and are left out."""
    evidence = np.full((len(actor_ids), len(READINESS_LEVELS)), np.nan, np.float64)
    code = {actor_id: position for position, actor_id in enumerate(actor_ids)}
    for row in tables.readiness:
        actor = code.get(row.actor_id)
        if actor is not None:
            evidence[actor] = times(row[1:])
    return evidence


def _actors(
    table: ActorColumns, actor_ids: list[str | None], actor_row: Codes, activated_by: Codes
) -> tuple[list[str], list[str], Actors]:
    """Per actor code: attributes where the actor has a row, blanks for referrers and
    activators met only in other tables."""
    count = len(actor_ids)
    # An empty sector counts as none.
    sector_column = [sector or None for sector in table.sector]
    roles, sectors = vocabulary(table.role), vocabulary(sector_column)

    def spread(values: Codes, fill: int) -> Codes:
        column = np.full(count, fill, np.int64)
        column[actor_row] = values
        return column

    activated = np.full(count, np.nan, np.float64)
    activated[actor_row] = times(table.activated_us)
    has_row = np.zeros(count, np.bool_)
    has_row[actor_row] = True
    citizen_ref: list[str | None] = [None] * count
    for code, ref in zip(actor_row.tolist(), table.citizen_ref, strict=True):
        citizen_ref[code] = ref
    actors = Actors(
        role=spread(encode(table.role, roles), -1),
        sector=spread(encode(sector_column, sectors), -1),
        activated=activated,
        activated_by=spread(activated_by, -1),
        has_row=has_row,
        citizen_ref=citizen_ref,
    )
    return roles, sectors, actors
