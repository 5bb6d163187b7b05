"""`/dashboard?embed=true`: the same dashboard as an HTML fragment for a client's own layout
(the web's Evaluering): every section, chart and link of the full page, but no document,
no styles and no scripts of its own, and nothing that loads from anywhere."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from services.analytics import service
from services.analytics.cli import write_direct
from services.analytics.main import build
from services.analytics.settings import AnalyticsSettings
from shared.db import Database
from tests.helpers import ServedApp, token

DOCUMENT_PARTS = ("<!doctype", "<html", "<head", "<body", "<style", "<script", "<link", "<header", "<main", "style=")


def headings(page: str) -> list[str]:
    return re.findall(r"<h2[^>]*>(.*?)</h2>", page)


def chart_titles(page: str) -> list[str]:
    return re.findall(r'<svg [^>]*class="chart"[^>]*><title>(.*?)</title>', page)


async def test_the_embedded_dashboard_is_the_full_one_without_its_document(nats_clean: str, tmp_path: Path) -> None:
    settings = AnalyticsSettings(database_url=f"sqlite:///{tmp_path / 'embed.db'}", nats_url=nats_clean)
    db = Database(settings.database_url)
    write_direct(db, 300, seed=5, progress=False)
    db.dispose()
    async with ServedApp(build(settings)) as served, served.client(token("analyst")) as analyst:
        # Before the first snapshot: the same Danish words, as a fragment.
        empty = (await analyst.get("/dashboard", params={"embed": "true"})).text
        assert "Intet øjebliksbillede endnu" in empty and "Kom tilbage efter det tidspunkt" in empty

        await asyncio.to_thread(service.take_snapshot, served.runtime)
        full = await analyst.get("/dashboard")
        embedded = await analyst.get("/dashboard", params={"embed": "true"})
        assert embedded.status_code == 200 and embedded.headers["content-type"].startswith("text/html")
        page = embedded.text
        for part in DOCUMENT_PARTS:
            assert part not in page.lower(), part
            assert part in full.text.lower() or part in ("<script", "<link", "style="), part
        assert page.lstrip().startswith("<p>Øjebliksbillede ")  # the lead comes first
        assert headings(page) == headings(full.text) and "Fra henvisning til fællesskab" in headings(page)
        assert chart_titles(page) == chart_titles(full.text) and len(chart_titles(page)) >= 12
        [snapshot_id] = [item["snapshot_id"] for item in (await analyst.get("/v1/snapshots")).json()]
        assert f'href="/dashboard/{snapshot_id}"' in page
        # Nothing in it loads from anywhere: no src, no url(), links only to other snapshots.
        assert "src=" not in page and "url(" not in page
        assert set(re.findall(r'href="([^"]*)"', page)) == {f"/dashboard/{snapshot_id}"}

        older = await analyst.get(f"/dashboard/{snapshot_id}", params={"embed": "true"})
        assert older.status_code == 200 and headings(older.text) == headings(page)
