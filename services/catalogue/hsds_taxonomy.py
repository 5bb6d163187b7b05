"""Our two HSDS 3.0 taxonomies and their terms, built from the municipality profile.

The profile's categories are one taxonomy, the programme's own kind of community (the practice
track) another; their ids derive from the profile's code, so two municipalities' vocabularies
never share one. A taxonomy's `version` is a digest of its terms: it changes exactly when a term
is added, removed or renamed.

Apart from `hsds.py` because nothing here reads a stored row: the vocabulary is the profile's,
and the import (`hsds_import.py`) needs the practice-track term without the record builders.
"""

from __future__ import annotations

import hashlib
import json

from services.catalogue.domain import stable_uuid, term_id
from services.catalogue.hsds_models import Taxonomy, TaxonomyTerm
from shared.profile import profile

TAXONOMY = "Vejviser fællesskabskategorier"
KIND_TAXONOMY = "Vejviser fællesskabstyper"
# The programme's own term: practice tracks (sociale øvebaner), exported as an attribute.
PRACTICE_TRACK_CODE = "practice_track"
PRACTICE_TRACK_TERM_ID = stable_uuid("term", PRACTICE_TRACK_CODE)


def category_taxonomy_id() -> str:
    return stable_uuid("taxonomy", f"{profile().code}:category")


def kind_taxonomy_id() -> str:
    return stable_uuid("taxonomy", f"{profile().code}:kind")


def category_term(code: str) -> TaxonomyTerm:
    category = profile().category.get(code)
    return TaxonomyTerm(
        id=term_id(code),
        code=code,
        name=category.label,
        description=category.label_en,
        taxonomy=TAXONOMY,
        taxonomy_id=category_taxonomy_id(),
        language="da",
    )


def practice_track_term() -> TaxonomyTerm:
    return TaxonomyTerm(
        id=PRACTICE_TRACK_TERM_ID,
        code=PRACTICE_TRACK_CODE,
        name="Social øvebane",
        description="A temporary, low-threshold community that bridges citizens into lasting ones",
        taxonomy=KIND_TAXONOMY,
        taxonomy_id=kind_taxonomy_id(),
        language="da",
    )


def taxonomy_terms() -> list[TaxonomyTerm]:
    return [category_term(community.code) for community in profile().category] + [practice_track_term()]


def taxonomies(base_url: str) -> list[Taxonomy]:
    """Our two vocabularies; `base_url` is the public address of this API, where each
    taxonomy can be fetched (its `uri`)."""
    terms = taxonomy_terms()
    described = (
        (category_taxonomy_id(), TAXONOMY, f"What a community in {profile().municipality} is about"),
        (kind_taxonomy_id(), KIND_TAXONOMY, f"The kinds of community {profile().programme} runs itself"),
    )
    return [
        Taxonomy(
            id=taxonomy_id,
            name=name,
            description=description,
            uri=f"{base_url}/hsds/taxonomies/{taxonomy_id}",
            version=_version([term for term in terms if term.taxonomy_id == taxonomy_id]),
        )
        for taxonomy_id, name, description in described
    ]


def _version(terms: list[TaxonomyTerm]) -> str:
    words = json.dumps([[term.code, term.name, term.description] for term in terms], ensure_ascii=False)
    return hashlib.sha256(words.encode()).hexdigest()[:12]
