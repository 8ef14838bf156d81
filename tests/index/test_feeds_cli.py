"""``akhbar-index build/update --feeds`` and saved-page folders, run as a user runs them (real processes).

The feeds come from the local news site of ``tests/corpus/news_site.py`` (127.0.0.1, real archive
articles wrapped in page chrome). An update from feeds must add articles and keep every article
already indexed; a second update with nothing new must write no build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.stores.faiss.layout import current_build_id, resolve_build
from index.stores.manifest import Manifest
from tests.corpus.news_site import NewsSite, PageSpec, page_html
from tests.support.cli import run_cli, tiny_cli_env
from tests.support.corpora import write_jsonl

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli_env(tmp_path: Path, tiny_model_dir: Path) -> dict[str, str]:
    return {**tiny_cli_env(tmp_path, tiny_model_dir), "FEED_DELAY_SECONDS": "0.01", "FEED_TIMEOUT": "2"}


def build_archive(tmp_path: Path, env: dict[str, str], records: list[dict]) -> Path:
    """Build an index of ``records`` with the CLI; returns the corpus file."""
    archive = write_jsonl(tmp_path / "archive.jsonl", records)
    built = run_cli("build", str(archive), env=env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    return archive


def allowing(env: dict[str, str], site: NewsSite) -> dict[str, str]:
    """``env`` naming the site's loopback server in FEED_ALLOWED_PRIVATE_HOSTS (the fetcher refuses it otherwise)."""
    return {**env, "FEED_ALLOWED_PRIVATE_HOSTS": site.base.removeprefix("http://")}


def rss_site(pages: list[PageSpec]) -> NewsSite:
    """A local site listing ``pages`` in one RSS feed, ``/rss.xml``."""
    return NewsSite(pages, {"/rss.xml": [(f"/news/{p.slug}.html", p.record) for p in pages]})


def test_update_from_feeds_adds_articles_and_keeps_the_archive(tmp_path: Path, cli_env: dict[str, str],
                                                                news_records: list[dict]) -> None:
    archive = build_archive(tmp_path, cli_env, news_records[:5])
    pages = [PageSpec(r, f"p{n}") for n, r in enumerate(news_records[100:106])]
    feeds = tmp_path / "feeds.txt"
    with rss_site(pages) as site:
        cli_env = allowing(cli_env, site)
        secret_feed = f"http://user:s3cretpw@{site.base.removeprefix('http://')}/private.xml?apikey=KEY123"
        feeds.write_text(f"# local test site\n{site.url('/rss.xml')}\n{site.url('/broken.xml')}  # not a feed\n"
                         f"{secret_feed}\n", encoding="utf-8")
        updated = run_cli("update", "--feeds", str(feeds), env=cli_env, cwd=tmp_path)
        assert updated.returncode == 0, updated.stderr
        assert "6 added" in updated.stderr
        assert "2 failed" in updated.stderr
        assert "/private.xml?…: feed: HTTP 404" in updated.stderr
        assert "s3cretpw" not in updated.stderr + updated.stdout, "credentials in a feed URL are never printed"
        assert "KEY123" not in updated.stderr + updated.stdout
        assert "broken.xml: feed: not an RSS or Atom feed" in updated.stderr
        assert "11 articles" in updated.stderr
        counts = re.search(r"(\d+) chunks \((\d+) embedded, (\d+) from the embedding cache, (\d+) reused\)",
                           updated.stderr)
        assert counts is not None, updated.stderr
        chunks, embedded, cached, reused = map(int, counts.groups())
        assert reused >= 5, "the archive's vectors are reused, not embedded"
        assert embedded + cached + reused == chunks
        index_dir = tmp_path / "index"
        fingerprints = Manifest.read(resolve_build(index_dir)).article_fingerprints
        assert {r["id"] for r in news_records[:5]} <= set(fingerprints), "the archive's articles are kept"
        assert len(fingerprints) == 11

        build_before = current_build_id(index_dir)
        again = run_cli("update", "--feeds", str(feeds), env=cli_env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "nothing new to index" in again.stderr
        assert current_build_id(index_dir) == build_before

        found = run_cli("search", pages[2].record["title"], "-k", "1", "--json", "--mode", "lexical",
                        env=cli_env, cwd=tmp_path)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["url"] == site.page_url("p2")

        rebuilt = run_cli("build", str(archive), "--feeds", str(feeds), env=cli_env, cwd=tmp_path)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "11 articles" in rebuilt.stderr, "a full build keeps every article fetched from feeds"

    neither = run_cli("update", env=cli_env, cwd=tmp_path)
    assert neither.returncode == 2
    assert "give SOURCES" in neither.stderr
    feeds.write_text("not a url\n", encoding="utf-8")
    bad = run_cli("update", "--feeds", str(feeds), env=cli_env, cwd=tmp_path)
    assert bad.returncode == 1
    assert "feeds.txt:1: 'not a url' is not an http(s) feed URL" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow  # Milvus end to end through real CLI processes (~40-80 s): CI's slow step
def test_update_from_feeds_on_milvus_adds_to_the_collection(tmp_path: Path, cli_env: dict[str, str],
                                                             news_records: list[dict]) -> None:
    """The same add-only update with ``VECTOR_STORE=milvus``: what is indexed is asked of Milvus, not a folder."""
    env = {**cli_env, "VECTOR_STORE": "milvus", "MILVUS_URI": str(tmp_path / "milvus.db")}
    build_archive(tmp_path, env, news_records[:4])
    pages = [PageSpec(r, f"m{n}") for n, r in enumerate(news_records[110:113])]
    feeds = tmp_path / "feeds.txt"
    with rss_site(pages) as site:
        env = allowing(env, site)
        feeds.write_text(site.url("/rss.xml") + "\n", encoding="utf-8")
        updated = run_cli("update", "--feeds", str(feeds), env=env, cwd=tmp_path)
        assert updated.returncode == 0, updated.stderr
        assert "3 added" in updated.stderr
        assert "7 articles" in updated.stderr
        again = run_cli("update", "--feeds", str(feeds), env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "nothing new to index" in again.stderr
        found = run_cli("search", pages[1].record["title"], "-k", "1", "--json", "--mode", "lexical",
                        env=env, cwd=tmp_path)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["url"] == site.page_url("m1")
    assert not (tmp_path / "index" / "current").exists(), "nothing was written to a FAISS directory"


def test_a_folder_of_saved_pages_builds(tmp_path: Path, cli_env: dict[str, str], news_records: list[dict]) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    records = [r for r in news_records[120:160] if _cp1256(r)][:4]
    for n, record in enumerate(records):
        encoding = "cp1256" if n % 2 else "utf-8"
        spec = PageSpec(record, f"s{n}", encoding=encoding, declared="meta")
        (folder / f"page-{n}.html").write_bytes(page_html(spec, "https://news.example").encode(encoding))
    built = run_cli("build", str(folder), env=cli_env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "4 articles" in built.stderr
    assert "skipped" not in built.stderr


def _cp1256(record: dict) -> bool:
    try:
        (record["title"] + record["text"] + record["source"]).encode("cp1256")
    except UnicodeEncodeError:
        return False
    return True
