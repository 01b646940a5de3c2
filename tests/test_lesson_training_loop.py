"""The training-loop lesson's live part, which its headless run never reaches.

Run headless, the lesson shows the untrained model: training starts only when
the learner presses the button. These tests drive that path. The first calls
the lesson's own loop, ``train_live``, for a few steps and checks that the loss
starts at the uniform baseline log V and falls well below it; the second runs
the whole notebook as if the button had been pressed (its cell replaced by a
pressed run button through ``app.run(defs=...)``) with a short run, and checks
that the pages after the curve then use the trained model.
"""

from __future__ import annotations

import importlib.util
import math
import warnings

import marimo as mo
import numpy as np
import pytest

from llmmath.lessons import get_lesson

pytestmark = [pytest.mark.lesson_training_loop, pytest.mark.xdist_group("lesson_training_loop")]


def _app():
    spec = importlib.util.spec_from_file_location("_lesson_training_loop",
                                                  get_lesson("training_loop").path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def _run(defs=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return _app().run(defs=defs)


@pytest.fixture(scope="module")
def headless():
    """Outputs and definitions of the lesson run top to bottom, button not pressed."""
    return _run()


def test_headless_run_does_not_train(headless) -> None:
    _, defs = headless
    assert defs["trained"] is None and defs["history"] is None
    assert defs["model_now"] is defs["untrained"] and defs["untrained"].step == 0
    assert "untrained" in defs["model_state"]


def test_train_live_lowers_the_loss_from_log_v(headless) -> None:
    _, defs = headless
    data, config = defs["data"], defs["config"]
    trainer = defs["Trainer"](config, data)
    seen = []
    history = defs["train_live"](trainer, 40, 20, on_step=lambda h: seen.append(h["step"][-1]))
    log_v = math.log(data.vocab_size)           # the loss of a uniform guess over V characters
    assert trainer.step == 40 and seen == list(range(1, 41))
    assert history["step"] == list(range(1, 41)) and len(history["loss"]) == 40
    assert [s for s, _ in history["evals"]] == [0, 20, 40]
    # small initial weights: the first batch costs about log V (measured 4.42 for 4.43)
    assert abs(history["loss"][0] - log_v) < 0.05, (history["loss"][0], log_v)
    start, end = history["evals"][0][1], history["evals"][-1][1]
    assert abs(start["val"] - log_v) < 0.05
    # 40 steps already take the loss far below the baseline (measured: val 3.05)
    assert end["train"] < log_v - 1.0 and end["val"] < log_v - 1.0, end
    assert np.mean(history["loss"][-10:]) < np.mean(history["loss"][:10]) - 0.8
    # the learning rate recorded each step is the schedule's (warm-up first)
    assert history["lr"][:3] == [trainer.lr_at(t) for t in range(3)]
    assert history["lr"][0] < history["lr"][config.warmup_iters - 1]


def test_pressing_the_button_trains_and_the_rest_uses_the_trained_model(headless) -> None:
    _, before = headless
    button = mo.ui.run_button(label="Train the model")
    button._update(1)            # what marimo does when the browser reports a click
    assert button.value is True
    steps = 30
    outputs, defs = _run({"train_button": button, "live_steps": steps, "eval_every": 10})
    trained, history = defs["trained"], defs["history"]
    assert trained is not None and trained.step == steps
    assert defs["model_now"] is trained and f"trained for {steps} steps" in defs["model_state"]
    assert len(history["loss"]) == steps
    assert [s for s, _ in history["evals"]] == [0, 10, 20, 30]
    assert history["evals"][-1][1]["val"] < history["evals"][0][1]["val"] - 0.8
    assert defs["train_seconds"] > 0
    # the samples and the surprise now come from the trained model
    assert defs["samples"] != before["samples"]
    assert defs["surprise"].mean() < before["surprise"].mean() - 1.0
    shown = " ".join(getattr(o, "text", "") for o in outputs if o is not None)
    assert f"Trained for {steps} steps" in shown
