"""Copy an index from one store to another without embedding anything again.

``akhbar-index migrate --to milvus`` reads the current FAISS build — articles, chunk offsets and
the stored vectors — and writes it as a new Milvus build (``--to faiss`` goes back). Only the
store interface is used, so the copy is exactly what the source serves: same chunks, same
vectors, same manifest (model, backend, chunker); the lexical side is rebuilt from the same
tokens by the target, which is how both stores index it anyway, and the stories are grouped
again from those vectors (a build older than story grouping gets them this way).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from corpus import Chunk
from index.build.builder import embedding_text
from index.build.progress import NullProgress, Progress
from index.build.stories import group_stories
from index.errors import IndexCorrupt
from index.stores import BuildContent, IndexStore

logger = logging.getLogger(__name__)

#: Vectors read from the source per call.
READ_BATCH = 2000


def migrate(source: IndexStore, target: IndexStore, *, wait: bool = False, progress: Progress | None = None) -> Path:
    """Write ``source``'s current build into ``target`` and make it current there.

    Returns:
        The target's new build (a directory, or a Milvus collection).

    Raises:
        IndexNotFound: ``source`` holds no build.
        IndexCorrupt: a chunk of the source has no article or no vector.
        IndexLocked: ``target`` is being written by another build and ``wait`` is false.

    """
    progress = progress or NullProgress()
    reader = source.open(verify=True)
    try:
        manifest = reader.manifest
        articles = reader.metadata.all_articles()
        by_id = {a.id: a for a in articles}
        rows = reader.metadata.chunk_rows()
        progress.start("reading vectors", len(rows), "chunks")
        chunks, vectors = [], []
        for start in range(0, len(rows), READ_BATCH):
            part = rows[start:start + READ_BATCH]
            found = reader.vectors([key for key, *_ in part])
            for key, chunk_id, article_id, begin, end in part:
                article = by_id.get(article_id)
                if article is None or key not in found:
                    raise IndexCorrupt(source.description, f"chunk {chunk_id} has no article or no vector")
                chunks.append(Chunk(chunk_id, article_id, article.text[begin:end], begin, end))
                vectors.append(found[key])
            progress.advance(len(part))
        progress.finish()
    finally:
        reader.close()
    copied = replace(manifest, articles=len(articles), chunks=len(chunks), files={},
                     article_fingerprints={a.id: a.fingerprint() for a in articles})
    content = BuildContent(articles, chunks, list(vectors),
                           [embedding_text(by_id[c.article_id], c, manifest.embed_titles) for c in chunks], copied,
                           "hnsw" if "HNSW" in manifest.vector_index.upper() else "flat",
                           stories=group_stories(articles, chunks, vectors))
    progress.start("writing", None, "files")
    with target.lock(wait=wait):
        location = target.write(content, None)
    progress.finish()
    logger.info("migrated %d articles, %d chunks from %s to %s", len(articles), len(chunks), source.description,
                target.description)
    return location
