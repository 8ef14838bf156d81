"""``manifest.json``: what an index was built with, so a reader can refuse what it cannot serve.

It records the format version, the embedding model (id, dimension, backend), the chunker
settings, counts, the build time, a fingerprint per article (incremental updates) and the size
and SHA-256 of every file of the build (damage is detected on open, not at the first query).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.errors import IndexCorrupt

#: Bump when the on-disk layout changes; older indexes must then be rebuilt.
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(slots=True)
class Manifest:
    """Contents of ``manifest.json``."""

    model_id: str
    dimension: int
    chunk_tokens: int
    chunk_overlap_tokens: int
    embed_titles: bool
    articles: int
    chunks: int
    built_at: str
    build_id: str
    sources: list[str] = field(default_factory=list)
    #: The vector index kind: ``Flat``/``HNSW32`` (FAISS) or ``Milvus FLAT``/``Milvus HNSW``.
    vector_index: str = "Flat"
    date_range: tuple[str, str] | None = None
    article_fingerprints: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    normalized_vectors: bool = True
    #: How the vectors were computed (torch, onnx, onnx-int8); builds older than the field used torch.
    #: Informational for search (every backend computes the same model; see README "Settings"), but
    #: an update re-embeds everything when it changes, so an update still equals a full rebuild.
    embedding_backend: str = "torch"

    def to_json(self) -> str:
        """Serialise with stable key order (diffable, reproducible)."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def read(cls, build_dir: Path) -> Manifest:
        """Read and validate ``manifest.json``.

        Raises:
            IndexCorrupt: missing, not JSON, or missing fields.
        """
        path = build_dir / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexCorrupt(str(build_dir), f"{MANIFEST_NAME} is missing") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexCorrupt(str(build_dir), f"{MANIFEST_NAME} is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise IndexCorrupt(str(build_dir), f"{MANIFEST_NAME} is not a JSON object")
        try:
            manifest = cls.from_fields(data)
        except TypeError as error:
            raise IndexCorrupt(str(build_dir), f"{MANIFEST_NAME} lacks fields: {error}") from None
        expected = {"model_id": str, "dimension": int, "chunk_tokens": int, "chunk_overlap_tokens": int,
                    "articles": int, "chunks": int, "format_version": int, "files": dict,
                    "article_fingerprints": dict}
        for name, kind in expected.items():
            if not isinstance(getattr(manifest, name), kind):
                raise IndexCorrupt(str(build_dir), f"{MANIFEST_NAME} field {name!r} is not a {kind.__name__}")
        if manifest.date_range is not None:
            if not (isinstance(manifest.date_range, list | tuple) and len(manifest.date_range) == 2):
                raise IndexCorrupt(str(build_dir), f"{MANIFEST_NAME} field 'date_range' is not a pair")
            manifest.date_range = (manifest.date_range[0], manifest.date_range[1])
        return manifest

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> Manifest:
        """A manifest from its JSON fields, unknown ones ignored.

        ``faiss_index``, the field's name before 2026-12 (it also held "Milvus HNSW"), is read as
        ``vector_index``, so existing indexes open unchanged.

        Raises:
            TypeError: a required field is missing.
        """
        known = set(cls.__dataclass_fields__)
        values = {key: value for key, value in data.items() if key in known}
        if "faiss_index" in data and "vector_index" not in data:
            values["vector_index"] = data["faiss_index"]
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        """The manifest without per-article fingerprints, for ``akhbar-index info``."""
        data = asdict(self)
        data.pop("article_fingerprints")
        return data


def file_digest(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file, as recorded in the manifest."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def verify_files(build_dir: Path, manifest: Manifest) -> None:
    """Check every recorded file is present with its size and hash.

    Raises:
        IndexCorrupt: naming the first file that is missing, truncated or altered.
    """
    root = build_dir.resolve()
    for name, expected in manifest.files.items():
        path = build_dir / name
        if Path(name).is_absolute() or not path.resolve().is_relative_to(root):
            # A manifest names files of its own build only; anything else is tampering, never read.
            raise IndexCorrupt(str(build_dir), f"the manifest names a file outside the build ({name[:80]!r})")
        if not path.is_file():
            raise IndexCorrupt(str(build_dir), f"{name} is missing")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            raise IndexCorrupt(str(build_dir), f"{name} has {size} bytes, expected {expected.get('bytes')}")
        if file_digest(path)["sha256"] != expected.get("sha256"):
            raise IndexCorrupt(str(build_dir), f"{name} does not match its checksum")
