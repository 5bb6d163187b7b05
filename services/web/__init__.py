"""The web client: Danish pages for guides, professionals and ambassadors (a backend-for-frontend
over the catalogue, referrals and notifications APIs; it owns only sessions and drafts)."""
