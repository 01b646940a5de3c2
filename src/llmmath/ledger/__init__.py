"""The claims ledger: every number and checkable statement of the course.

Each entry records where the course makes a statement, what it states, and
what is true, and carries two computations: one with llmmath and one
independent of it (SciPy, PyTorch, mpmath, exact arithmetic or a closed
form). ``llmmath verify`` runs them all.

Lessons read the recorded data, without running anything::

    >>> from llmmath.ledger import get_claim
    >>> c = get_claim("001-attention-worked-example")
    >>> c.status
    'erratum'
    >>> c.correct
    '[0.386, 0.323, 0.291] (38.6%, 32.3%, 29.1%)'

The ids, with their status, are listed in ``CLAIMS.md`` next to this file
(``llmmath.ledger.core.write_claims_markdown()`` rewrites it).
"""

from __future__ import annotations

from llmmath.ledger.core import (
    STATUSES,
    SYLLABUS_FILES,
    SYLLABUS_TITLES,
    Claim,
    Evaluation,
    claims,
    evaluate,
    evaluate_all,
    get_claim,
    missing_packages,
)

__all__ = [
    "STATUSES",
    "SYLLABUS_FILES",
    "SYLLABUS_TITLES",
    "Claim",
    "Evaluation",
    "claims",
    "evaluate",
    "evaluate_all",
    "get_claim",
    "missing_packages",
]
