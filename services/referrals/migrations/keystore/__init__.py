"""The schema migrations of this database (shared/migrations.py drives them; revisions in versions/)."""
