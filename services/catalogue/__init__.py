"""Catalogue: the map of communities, associations, capacity and unmet needs."""
