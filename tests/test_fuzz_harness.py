"""The fuzz harness itself: its message check must be able to fail.

``check_call`` accepts a refusal only when the message names the operation and,
quoted, one of the arguments the call passed. Here it is fed functions whose
messages are deliberately poor, and must complain about each one.
"""

from __future__ import annotations

import pytest

from fuzz import argument_names, check_call, message_problem
from llmmath.errors import InvalidTypeError, InvalidValueError


def scale(x, factor=2.0, *, clip=None):
    """A stand-in public function that raises whatever ``scale.message`` says."""
    raise InvalidValueError(scale.message)


class Model:
    def __init__(self, order, smoothing="mle"):
        raise InvalidTypeError(Model.message)

    def generate(self, n, rng=None):
        raise InvalidValueError(Model.message)


def _complains(message, fn=scale, *args, **kwargs):
    fn.message = message
    with pytest.raises(AssertionError) as exc:
        check_call(fn, *args, **kwargs)
    return str(exc.value)


@pytest.mark.parametrize("message", [
    "scale: can't do that.",                                # a quote, but no argument: passed the old check
    "scale: argument x is not finite.",                     # unquoted
    "scale: argument 'clip' must be positive; got -1.",     # names an argument this call did not pass
    "argument 'x' must be finite; got nan.",                 # no operation
    "",
    "   ",
])
def test_poor_messages_are_caught(message):
    text = _complains(message, scale, 1.0, factor=3.0)
    assert "scale raised InvalidValueError" in text


def test_what_the_complaint_says():
    text = _complains("scale: the result overflows.", scale, 1.0)
    assert "names none of the arguments passed, quoted ('x')" in text
    text = _complains("op: argument 'x' is bad.", scale, 1.0)
    assert "does not name the operation 'scale'" in text


def test_a_good_message_is_accepted_for_positional_keyword_and_item_names():
    for message, args, kwargs in [
        ("scale: argument 'x' must be finite; got nan.", (float("nan"),), {}),
        ("scale: argument 'factor' must be > 0; got -1.0.", (1.0, -1.0), {}),   # positional
        ("scale: argument 'clip' must be > 0; got 0.", (1.0,), {"clip": 0}),    # keyword
        ("scale: argument 'x[2]' is NaN.", ([1, 2, float("nan")],), {}),         # an item of x
        ("scale: arguments 'x' and 'factor' disagree.", (1.0, 2.0), {}),
    ]:
        scale.message = message
        assert check_call(scale, *args, **kwargs) is None, message


def test_argument_names_come_from_the_call_and_the_signature():
    assert argument_names(scale, (1.0,), {}) == {"x"}
    assert argument_names(scale, (1.0, 2.0), {"clip": 1}) == {"x", "factor", "clip"}
    assert argument_names(Model, (2,), {}) == {"order"}             # a class: its constructor
    m = object.__new__(Model)
    assert argument_names(m.generate, (5,), {"rng": 0}) == {"n", "rng"}   # no 'self'
    assert argument_names(print, ("a", "b"), {"sep": ""}) >= {"sep"}
    assert argument_names(scale, (1, 2, 3, 4), {}) == set()         # a call the signature refuses


def test_classes_and_methods_are_checked_by_their_own_names():
    Model.message = "NGramLM: argument 'order' must be >= 1; got 0."
    assert "does not name the operation 'Model'" in _complains(Model.message, Model, 0)
    Model.message = "Model: argument 'order' must be >= 1; got 0."
    assert check_call(Model, 0) is None
    m = object.__new__(Model)
    Model.message = "Model.nll: argument 'n' is bad."               # another method's name
    with pytest.raises(AssertionError, match="does not name the operation 'generate'"):
        check_call(m.generate, 3)


def test_errors_outside_the_family_and_nan_results_fail():
    def raw(x):
        raise ValueError("raw: argument 'x' is bad")

    with pytest.raises(AssertionError, match="let builtins.ValueError escape"):
        check_call(raw, 1)

    def nan(x):
        return float("nan")

    with pytest.raises(AssertionError, match="returned NaN"):
        check_call(nan, 1)


def test_message_problem_directly():
    assert message_problem("f: argument 'a' bad", "f", {"a"}) is None
    assert message_problem("f: argument 'ab' bad", "f", {"a"}) is not None   # whole names only
    assert message_problem("f: nothing to name", "f", set()) is None        # nothing was passed
