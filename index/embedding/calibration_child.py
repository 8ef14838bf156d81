"""``python -m index.embedding.calibration_child FOLDER MODEL_ID CACHE_DIR``: calibrate, record, exit.

The process :func:`index.embedding.calibration.choose_engine` starts for a first calibration, so
that the memory of measuring every engine goes back to the system with it (a module of its own:
run with ``-m``, the calibration module itself would be imported twice).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from index.embedding.calibration import calibrate_and_record


def main(arguments: list[str]) -> int:
    """Calibrate the model of ``arguments`` (folder, model id, cache dir) and write the record."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    folder, model_id, cache_dir = arguments
    calibrate_and_record(folder, model_id, Path(cache_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
