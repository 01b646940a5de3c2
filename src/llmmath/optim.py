"""Optimisers (SGD, Adam, AdamW), gradient clipping and the cosine learning-rate schedule.

Each update is PyTorch's, operation for operation (``torch.optim`` with its
default single-tensor loop on the CPU), so that in float64 the two agree to
rounding after hundreds of steps. Updates run in place on ``p.data`` with
preallocated buffers: an optimiser step allocates almost nothing.

Parameters can be a list of tensors or a list of *parameter groups* (dicts
with a ``"params"`` list and per-group settings), as in PyTorch;
``group["lr"]`` may be changed between steps (that is how a schedule is
applied).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from llmmath._validation import check_bool, check_float, check_int, describe
from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm", "cosine_schedule", "CosineSchedule",
]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad`` and checkpoints.

    Lesson: none (a utility of the optimisers).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise InvalidTypeError(f"{name}: argument 'params' must be an iterable of tensors or of "
                                   "parameter-group dicts, not a single Tensor.")
        try:
            items = list(params)
        except TypeError:
            raise InvalidTypeError(f"{name}: argument 'params' must be an iterable of tensors or "
                                   f"of parameter-group dicts; got {describe(params)}.") from None
        if not items:
            raise InvalidValueError(f"{name}: argument 'params' is empty; expected at least one "
                                    "Tensor to optimise.")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for group in groups:
            if not isinstance(group, dict) or "params" not in group:
                raise InvalidTypeError(f"{name}: every parameter group in argument 'params' must "
                                       f"be a dict with a 'params' list; got {describe(group)}.")
            try:
                ps = list(group["params"])
            except TypeError:
                raise InvalidTypeError(f"{name}: the 'params' of a parameter group in argument "
                                       "'params' must be an iterable of tensors; got "
                                       f"{describe(group['params'])}.") from None
            for p in ps:
                if not isinstance(p, Tensor):
                    raise InvalidTypeError(f"{name}: argument 'params' must hold Tensors; got "
                                           f"{describe(p)}.")
                if id(p) in seen:
                    raise InvalidValueError(f"{name}: a parameter appears in more than one "
                                            "group of argument 'params' (or twice in one).")
                seen.add(id(p))
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise InvalidValueError(f"{name}: unknown settings {sorted(unknown)} in a "
                                        f"parameter group of argument 'params'; known: "
                                        f"{sorted(defaults)}.")
            full = {**defaults, **group, "params": ps}
            self._check_group(full)
            self.param_groups.append(full)
        self.state: dict[int, dict[str, Any]] = {}   # by id(param)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_float(group["lr"], "lr", type(self).__name__, min_value=0.0)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter (``None`` by default, as PyTorch)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, self.state.setdefault(id(p), {}), group)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Settings and state (step counts, moment buffers) as copies, keyed like PyTorch.

        ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``,
        the index counting parameters across groups in order.
        """
        index, groups = 0, []
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if id(p) in self.state:
                    state[index] = copy.deepcopy(self.state[id(p)])
                ids.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (the same parameters, in the same groups)."""
        name = f"{type(self).__name__}.load_state_dict"
        try:
            groups, state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise InvalidValueError(f"{name}: argument 'state_dict' must be a dict with 'state' "
                                    f"and 'param_groups'; got {describe(state_dict)}.") from None
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups, strict=False)):
            raise InvalidValueError(f"{name}: the groups of argument 'state_dict' have sizes "
                                    f"{[len(g['params']) for g in groups]}; this optimiser's "
                                    f"have {[len(g['params']) for g in self.param_groups]}.")
        params = [p for g in self.param_groups for p in g["params"]]
        new_state: dict[int, dict[str, Any]] = {}
        for key, s in state.items():
            p = params[int(key)]
            restored = copy.deepcopy(s)
            for k, v in restored.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ShapeError(f"{name}: argument 'state_dict' holds state '{k}' of "
                                         f"parameter {key} with shape "
                                         f"{v.shape}; the parameter has {p.shape}.")
                    restored[k] = v.astype(p.dtype)
            new_state[id(p)] = restored
        restored_groups = []
        for own, saved in zip(self.param_groups, groups, strict=True):
            unknown = set(saved) - set(self.defaults) - {"params"}
            if unknown:
                raise InvalidValueError(f"{name}: unknown settings {sorted(unknown)} in a group "
                                        f"of argument 'state_dict'; known: "
                                        f"{sorted(self.defaults)}.")
            group = {**own, **{k: v for k, v in saved.items() if k != "params"}}
            self._check_group(group)         # a checkpoint holding lr=nan is refused here
            restored_groups.append(group)
        for own, group in zip(self.param_groups, restored_groups, strict=True):
            own.update(group)
        self.state = new_state


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, Nesterov and weight decay (PyTorch's).

    Lessons: ``svd_lora`` (SVD, low-rank approximation and LoRA); ``tensors`` (NumPy, PyTorch and
    llmmath side by side).

    .. math::
        g \leftarrow g + \lambda\theta, \quad
        b \leftarrow \mu b + (1-\tau) g \ (b_1 = g), \quad
        \theta \leftarrow \theta - \eta\,(g + \mu b \text{ if Nesterov else } b)

    Parameters
    ----------
    params : iterable of Tensor or of dict
    lr : float
        η.
    momentum : float
        μ in [0, 1] (0 = plain SGD).
    nesterov : bool
        Look-ahead momentum (needs μ > 0 and no dampening).
    weight_decay : float
        λ, L2 penalty added to the gradient.
    dampening : float
        τ in [0, 1].

    References
    ----------
    I. Sutskever et al., "On the importance of initialization and momentum in
    deep learning", ICML 2013; PyTorch ``torch.optim.SGD``.

    Examples
    --------
    >>> from llmmath.autograd import Tensor
    >>> from llmmath.optim import SGD
    >>> w = Tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()      # gradient 2w = 2
    >>> opt.step()
    >>> print(w.data)
    [0.8]
    """

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0, *,
                 dampening: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov,
                                  "weight_decay": weight_decay, "dampening": dampening})

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        # momentum and dampening are fractions: with momentum > 1 the buffer grows without
        # bound (1 is the undamped heavy ball, which never forgets), dampening > 1 reverses
        # the gradient.
        check_float(group["momentum"], "momentum", "SGD", min_value=0.0, max_value=1.0)
        check_float(group["dampening"], "dampening", "SGD", min_value=0.0, max_value=1.0)
        check_float(group["weight_decay"], "weight_decay", "SGD", min_value=0.0)
        if check_bool(group["nesterov"], "nesterov", "SGD") and (
                group["momentum"] <= 0 or group["dampening"] != 0):
            raise InvalidValueError("SGD: argument 'nesterov' = True needs 'momentum' > 0 and "
                                    f"'dampening' = 0; got momentum={group['momentum']} and "
                                    f"dampening={group['dampening']}.")

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        wd, mu = group["weight_decay"], group["momentum"]
        if wd != 0:
            grad = grad + wd * p.data
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= mu
                buf += (1.0 - group["dampening"]) * grad
            grad = grad + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * grad


class Adam(Optimizer):
    r"""Adam: moving averages of the gradient and its square, bias-corrected.

    Lesson: ``bayes`` (Bayes' rule in training).

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). ε is added to √v̂ (PyTorch's
    placement). ``weight_decay`` adds λθ to the gradient (L2, coupled).

    Parameters
    ----------
    params : iterable of Tensor or of dict
    lr : float
    betas : (float, float)
        β₁, β₂ in [0, 1).
    eps : float
        ≥ 0.
    weight_decay : float
        ≥ 0.

    References
    ----------
    D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015, Algorithm 1; PyTorch ``torch.optim.Adam``.

    Examples
    --------
    >>> from llmmath.autograd import Tensor
    >>> from llmmath.optim import Adam
    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                    # the first step moves each weight by about lr
    >>> print(w.data.round(6))
    [ 0.9 -0.9]
    """

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        name = type(self).__name__
        betas = group["betas"]
        if isinstance(betas, np.ndarray) and betas.ndim == 1:
            betas = tuple(betas.tolist())
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise InvalidTypeError(f"{name}: argument 'betas' must be a pair (beta1, beta2) of "
                                   f"numbers in [0, 1); got {describe(betas)}.")
        for i, b in enumerate(betas):
            check_float(b, f"betas[{i}]", name, min_value=0.0, max_value=1.0, max_inclusive=False)
        group["betas"] = tuple(float(b) for b in betas)
        check_float(group["eps"], "eps", name, min_value=0.0)
        check_float(group["weight_decay"], "weight_decay", name, min_value=0.0)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], \
            group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v, theta = state["exp_avg"], state["exp_avg_sq"], p.data
        if wd != 0:
            if self._decoupled:
                theta *= 1.0 - lr * wd                     # AdamW: shrink θ directly
            else:
                grad = grad + wd * theta                   # Adam: L2 term in the gradient
        tmp = _scratch(self, theta)                        # reused by every parameter
        w1 = 1.0 - beta1                                   # m <- lerp(m, g, 1 - beta1)
        if abs(w1) < 0.5:
            np.subtract(grad, m, out=tmp)
            tmp *= w1
            m += tmp
        else:
            np.subtract(grad, m, out=tmp)
            tmp *= 1.0 - w1
            np.subtract(grad, tmp, out=m)
        v *= beta2                                          # v <- beta2 v + (1 - beta2) g g
        np.multiply(grad, 1.0 - beta2, out=tmp)
        tmp *= grad
        v += tmp
        step_size = lr / (1.0 - beta1 ** t)
        np.sqrt(v, out=tmp)                                 # denom = sqrt(v) / sqrt(bc2) + eps
        tmp /= math.sqrt(1.0 - beta2 ** t)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= -step_size
        theta += tmp


def _scratch(opt: Optimizer, like: np.ndarray) -> np.ndarray:
    """A work array of ``like``'s shape and dtype, one buffer per optimiser and dtype.

    Each update needs one temporary of its parameter's size; taking it from a
    buffer that grows to the largest parameter saves an allocation per
    parameter per step (26 for the baby GPT).
    """
    buffers = opt.__dict__.setdefault("_scratch_buffers", {})
    buf = buffers.get(like.dtype)
    if buf is None or buf.size < like.size:
        buf = buffers[like.dtype] = np.empty(like.size, like.dtype)
    return buf[:like.size].reshape(like.shape)


class AdamW(Adam):
    r"""Adam with decoupled weight decay: θ ← θ(1 − ηλ) before the Adam step.

    Lesson: ``training_loop`` (The complete training loop).

    The decay does not pass through the moment estimates, so every weight
    shrinks at the same relative rate (unlike L2 in Adam).

    Parameters
    ----------
    params, lr, betas, eps
        As :class:`Adam`.
    weight_decay : float
        λ (PyTorch's default 0.01).

    References
    ----------
    I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization",
    ICLR 2019, Algorithm 2; PyTorch ``torch.optim.AdamW``.

    Examples
    --------
    >>> from llmmath.autograd import Tensor
    >>> from llmmath.optim import AdamW
    >>> w = Tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = np.zeros(1)          # no gradient: only the decay acts
    >>> opt.step()
    >>> print(w.data)                 # 1 * (1 - 0.1 * 0.5)
    [0.95]
    """

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


def clip_grad_norm(params: Iterable[Tensor], max_norm: float, norm_type: float = 2.0) -> float:
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``.

    Lesson: ``training_loop`` (The complete training loop).

    .. math::
        N = \Big(\sum_p \lVert g_p \rVert^q\Big)^{1/q}, \qquad
        g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{\text{max\_norm}}{N + 10^{-6}}\Big)

    Parameters
    ----------
    params : iterable of Tensor
        Those with ``grad is None`` are skipped.
    max_norm : float
    norm_type : float
        q; ``inf`` for the largest absolute entry.

    Returns
    -------
    float
        N, the norm before clipping (log it: spikes reveal instability).

    References
    ----------
    R. Pascanu, T. Mikolov, Y. Bengio, "On the difficulty of training
    recurrent neural networks", ICML 2013; PyTorch ``clip_grad_norm_``.

    Examples
    --------
    >>> from llmmath.autograd import Tensor
    >>> from llmmath.optim import clip_grad_norm
    >>> w = Tensor([0.0, 0.0], requires_grad=True)
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm([w], max_norm=1.0)
    5.0
    >>> print(w.grad.round(4))
    [0.6 0.8]
    """
    op = "clip_grad_norm"
    if isinstance(params, Tensor):
        params = [params]
    max_norm = check_float(max_norm, "max_norm", op, min_value=0.0)
    q = check_float(norm_type, "norm_type", op, min_value=0.0, min_inclusive=False,
                    allow_inf=True)
    try:
        params = list(params)
    except TypeError:
        raise InvalidTypeError(f"{op}: argument 'params' must be an iterable of Tensors; got "
                               f"{type(params).__name__}.") from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise InvalidTypeError(f"{op}: argument 'params' must hold Tensors; item {i} is "
                                   f"{type(p).__name__}.")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if math.isinf(q):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        if q == 2.0:  # what np.linalg.norm computes for a vector, without its checks
            norms = [float(np.sqrt(v.dot(v))) for v in (g.ravel() for g in grads)]
        else:
            norms = [_q_norm(np.abs(g.ravel()), q) for g in grads]
        total = _q_norm(np.asarray(norms), q) if q != 2.0 else float(np.linalg.norm(norms))
    if not math.isfinite(total):  # scaling by max_norm / inf or NaN would hide the problem
        if all(np.isfinite(g).all() for g in grads):
            raise InvalidValueError(f"{op}: the gradient norm is {total}: with argument "
                                    f"'norm_type' = {q:g} the norm of these finite gradients is "
                                    "beyond the float range; use norm_type=2.")
        raise InvalidValueError(f"{op}: the gradient norm is {total}; some gradient of argument "
                                "'params' holds NaN or inf (use autograd.detect_anomaly() to "
                                "find the op).")
    coef = min(max_norm / (total + 1e-6), 1.0)
    if coef != 1.0:  # a factor of exactly 1 would change nothing: skip the pass over memory
        for g in grads:
            g *= coef
    return total


def _q_norm(a: np.ndarray, q: float) -> float:
    """``(sum a_i**q)**(1/q)`` of magnitudes ``a``, divided by ``max a`` first (no overflow
    in the powers; ``inf`` only when the norm itself is beyond the float range)."""
    top = float(a.max()) if a.size else 0.0
    if top == 0.0 or not math.isfinite(top):
        return top
    with np.errstate(over="ignore", under="ignore"):
        return float(top * np.sum((a / top) ** q) ** (1.0 / q))


def cosine_schedule(step: int, max_lr: float, min_lr: float, warmup_steps: int,
                    decay_steps: int) -> float:
    r"""Learning rate at ``step``: linear warm-up, then cosine decay to ``min_lr`` (nanoGPT's get_lr).

    Lesson: ``training_loop`` (The complete training loop).

    .. math::
        \eta(t) = \begin{cases}
        \eta_{\max}\,(t+1)/(w+1) & t < w \\
        \eta_{\min} + \tfrac12\big(1 + \cos(\pi r)\big)(\eta_{\max} - \eta_{\min}),\
        r = \frac{t - w}{d - w} & w \le t \le d \\
        \eta_{\min} & t > d
        \end{cases}

    Parameters
    ----------
    step : int
        t, counted from 0.
    max_lr, min_lr : float
    warmup_steps : int
        w.
    decay_steps : int
        d, the step at which the cosine reaches ``min_lr`` (counted from 0,
        warm-up included: nanoGPT's ``lr_decay_iters``). Must be >= w.

    Returns
    -------
    float

    References
    ----------
    I. Loshchilov, F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017 (the cosine); nanoGPT ``train.py`` ``get_lr``.

    Examples
    --------
    >>> from llmmath.optim import cosine_schedule
    >>> [round(cosine_schedule(t, 1.0, 0.1, 4, 14), 3) for t in (0, 3, 4, 9, 14, 20)]
    [0.2, 0.8, 1.0, 0.55, 0.1, 0.1]
    """
    return _cosine(step, max_lr, min_lr, warmup_steps, decay_steps, "cosine_schedule")


def _cosine(step: Any, max_lr: Any, min_lr: Any, warmup_steps: Any, decay_steps: Any,
            op: str) -> float:
    t = check_int(step, "step", op, min_value=0)
    hi = check_float(max_lr, "max_lr", op, min_value=0.0)
    lo = check_float(min_lr, "min_lr", op, min_value=0.0, max_value=hi)
    w = check_int(warmup_steps, "warmup_steps", op, min_value=0)
    d = check_int(decay_steps, "decay_steps", op, min_value=w)
    if t < w:
        return hi * (t + 1) / (w + 1)
    if t > d:
        return lo
    if d == w:
        return lo
    ratio = (t - w) / (d - w)
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))
    return lo + coeff * (hi - lo)


class CosineSchedule:
    """Applies :func:`cosine_schedule` to an optimiser: call ``step()`` once per training step.

    Lesson: none (a utility of the optimisers).

    Examples
    --------
    >>> from llmmath.autograd import Tensor
    >>> from llmmath.optim import SGD, CosineSchedule
    >>> opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
    >>> sched = CosineSchedule(opt, max_lr=1.0, min_lr=0.0, warmup_steps=1, decay_steps=3)
    >>> opt.param_groups[0]["lr"]     # set for step 0 at once
    0.5
    >>> sched.step(); opt.param_groups[0]["lr"]
    1.0
    """

    def __init__(self, optimizer: Optimizer, max_lr: float, min_lr: float, warmup_steps: int,
                 decay_steps: int) -> None:
        if not isinstance(optimizer, Optimizer):
            raise InvalidTypeError("CosineSchedule: argument 'optimizer' must be an Optimizer; "
                                   f"got {describe(optimizer)}.")
        self.optimizer = optimizer
        self.settings = (max_lr, min_lr, warmup_steps, decay_steps)
        _cosine(0, *self.settings, "CosineSchedule")  # validates
        self.last_step = 0
        self._apply()

    def _apply(self) -> None:
        lr = cosine_schedule(self.last_step, *self.settings)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def get_lr(self) -> float:
        return cosine_schedule(self.last_step, *self.settings)

    def step(self) -> None:
        self.last_step += 1
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {"last_step": self.last_step, "settings": self.settings}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        op = "CosineSchedule.load_state_dict"
        try:
            last_step, settings = state["last_step"], tuple(state["settings"])
        except (KeyError, TypeError):
            raise InvalidValueError(f"{op}: argument 'state' must be a dict with 'last_step' and "
                                    f"'settings'; got {describe(state)}.") from None
        if len(settings) != 4:
            raise InvalidValueError(f"{op}: argument 'state' holds {len(settings)} settings; "
                                    "expected (max_lr, min_lr, warmup_steps, decay_steps).")
        last_step = check_int(last_step, 'state["last_step"]', op, min_value=0)
        _cosine(last_step, *settings, op)  # validates before anything changes
        self.last_step, self.settings = last_step, settings
        self._apply()
