"""Hypothesis settings profiles shared by every test folder: ``default`` (quick) and ``ci-slow`` (thorough).

Property tests leave ``max_examples`` to the profile, so one variable picks the depth of a run::

    pytest tests/bot                             # "default": a modest, fixed number of examples
    HYPOTHESIS_PROFILE=ci-slow pytest tests/bot  # 1,000 examples per property (nightly CI)

``deadline=None`` in both: the machines are shared, and a slow example is not a failure. A
folder's ``conftest.py`` calls :func:`load_profiles` at import; registering again is harmless.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: The profile names (``HYPOTHESIS_PROFILE`` chooses one; unset means ``default``).
DEFAULT, CI_SLOW = "default", "ci-slow"
EXAMPLES = {DEFAULT: 60, CI_SLOW: 1000}


def load_profiles() -> str:
    """Register both profiles and load the one ``HYPOTHESIS_PROFILE`` names; returns its name.

    Raises:
        hypothesis.errors.InvalidArgument: ``HYPOTHESIS_PROFILE`` names no registered profile.
    """
    settings.register_profile(DEFAULT, max_examples=EXAMPLES[DEFAULT], deadline=None)
    settings.register_profile(CI_SLOW, max_examples=EXAMPLES[CI_SLOW], deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    name = os.environ.get("HYPOTHESIS_PROFILE") or DEFAULT
    settings.load_profile(name)
    return name
