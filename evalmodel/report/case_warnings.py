"""The warnings a case's notes list: recorded while its sections (or studies) are built.

The case task, the calibration studies' tasks and the join of their section all record the
same way, so that the notes are the same whichever process built what.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["note_lines", "recording"]


@contextmanager
def recording() -> Iterator[list[warnings.WarningMessage]]:
    """Within the block every warning is recorded, each time it is raised, into the list
    yielded; except ``ResourceWarning``, which is not the case's (the collector may finalise
    an unclosed file of anyone's while the case runs)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)
        yield caught if caught is not None else []


def note_lines(caught: Iterable[warnings.WarningMessage]) -> list[str]:
    """Each recorded warning as a note line, ``"Category: message"``, in order."""
    return [f"{w.category.__name__}: {w.message}" for w in caught]
