"""Referrals: the three-part wayfinding process and the cascade's edges."""
