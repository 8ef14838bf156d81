"""The int8 model's word-embedding table, looked up in NumPy rather than inside OpenVINO.

Why: NNCF stores the table int8 (250,037 × 384, 96 MB for multilingual-e5-small), but in a model
with quantised activations OpenVINO's CPU plugin folds that int8 constant and its per-row scale
into one float32 constant when it compiles (its compressed ``Gather`` is only kept in weight-only
models): the compiled int8 engine cost ~586 MB of RSS for a 120 MB ``model.bin``. Cut out of the
graph and read from a memory-mapped ``.npy``, the same table costs the pages a build touches, and
the compiled model ~127 MB; the vectors are bit-identical (the graph receives the same
``table[ids] * scale`` it computed itself).

``.npy`` is read with ``allow_pickle=False``: loading it never runs code.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Row-quantised table (int8) and its per-row scales (float32), beside ``model.xml``.
TABLE_FILE = "word_embeddings.int8.npy"
SCALES_FILE = "word_embeddings.scales.npy"
#: The graph input that replaces the lookup.
EMBEDS_INPUT = "inputs_embeds"


def split_word_embeddings(model: Any, folder: Path) -> bool:
    """Move the int8 word-embedding lookup of ``model`` out into ``folder``; True when it was found.

    The lookup NNCF leaves is ``Gather(Multiply(Convert(Const int8), Const scale), input_ids…)``;
    the ``Gather`` is replaced by a float input :data:`EMBEDS_INPUT` ``[batch, tokens, width]``,
    and ``input_ids`` stays an input (position ids and shapes still read it). A graph of another
    shape is left whole (False): it still runs, only without the memory saving.
    """
    import openvino

    gather = _word_gather(model)
    if gather is None:
        logger.info("no int8 word-embedding lookup found: the table stays inside the graph")
        return False
    multiply = gather.input_value(0).get_node()
    sources = [multiply.input_value(i).get_node() for i in range(2)]
    convert = next(node for node in sources if node.get_type_name() == "Convert")
    scales = next(node for node in sources if node.get_type_name() == "Constant")
    table = np.asarray(convert.input_value(0).get_node().get_data(), dtype=np.int8)
    row_scales = np.asarray(scales.get_data(), dtype=np.float32).reshape(-1, 1)
    np.save(folder / TABLE_FILE, table, allow_pickle=False)
    np.save(folder / SCALES_FILE, row_scales, allow_pickle=False)
    embeds = openvino.opset13.parameter([-1, -1, int(table.shape[1])], openvino.Type.f32, name=EMBEDS_INPUT)
    embeds.output(0).get_tensor().set_names({EMBEDS_INPUT})
    gather.output(0).replace(embeds.output(0))
    model.add_parameters([embeds])
    model.validate_nodes_and_infer_types()
    return True


def _word_gather(model: Any) -> Any | None:
    """The ``Gather`` reading ``input_ids`` from a 2-D int8 table with per-row scales, or None."""
    import openvino

    for node in model.get_ordered_ops():
        if node.get_type_name() != "Gather":
            continue
        multiply = node.input_value(0).get_node()
        if multiply.get_type_name() != "Multiply":
            continue
        kinds = sorted(multiply.input_value(i).get_node().get_type_name() for i in range(2))
        if kinds != ["Constant", "Convert"]:
            continue
        convert = next(multiply.input_value(i).get_node() for i in range(2)
                       if multiply.input_value(i).get_node().get_type_name() == "Convert")
        table = convert.input_value(0).get_node()
        if (table.get_type_name() == "Constant" and table.get_element_type() == openvino.Type.i8
                and len(table.get_output_shape(0)) == 2 and _reads_input_ids(node)):
            return node
    return None


def _reads_input_ids(gather: Any) -> bool:
    """Whether the gather's indices are the ``input_ids`` parameter (possibly through a Convert)."""
    node = gather.input_value(1).get_node()
    while node.get_type_name() == "Convert":
        node = node.input_value(0).get_node()
    return node.get_type_name() == "Parameter" and "input_ids" in node.output(0).get_names()


class WordTable:
    """The table cut out by :func:`split_word_embeddings`, memory-mapped, looked up per batch."""

    def __init__(self, folder: Path) -> None:
        self._table = np.load(folder / TABLE_FILE, mmap_mode="r", allow_pickle=False)
        self._scales = np.load(folder / SCALES_FILE, allow_pickle=False)
        if self._table.ndim != 2 or self._scales.shape != (self._table.shape[0], 1):
            raise ValueError(f"{folder}: word-embedding table {self._table.shape} and scales "
                             f"{self._scales.shape} do not match")

    @staticmethod
    def present(folder: Path) -> bool:
        """Whether ``folder`` holds a table cut out of its graph."""
        return (folder / TABLE_FILE).is_file() and (folder / SCALES_FILE).is_file()

    def embeds(self, input_ids: np.ndarray) -> np.ndarray:
        """``[batch, tokens, width]`` float32: what the graph's own lookup computed (int8 row × its scale)."""
        rows = np.asarray(self._table[input_ids], dtype=np.float32)
        rows *= self._scales[input_ids]
        return rows
