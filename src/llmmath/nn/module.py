"""The module system: :class:`Module`, :class:`ModuleList`, :class:`ModuleDict`.

:class:`Module` keeps parameters and sub-modules in attribute order, the way
``torch.nn.Module`` registers them, so parameter names, order and shapes
match PyTorch: a ``state_dict`` moves between the two.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from llmmath._validation import check_bool
from llmmath.autograd import Parameter
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = ["Module", "ModuleList", "ModuleDict", "float_dtype"]


class Module:
    """Base class: parameters and sub-modules are found through attributes, in order.

    Lesson: none (a building block of the models).

    Examples
    --------
    >>> from llmmath.nn import Linear
    >>> layer = Linear(3, 2)
    >>> [(name, p.shape) for name, p in layer.named_parameters()]
    [('weight', (2, 3)), ('bias', (2,))]
    """

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def _children(self) -> Iterator[tuple[str, Any]]:
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names."""
        yield prefix, self
        for name, value in self._children():
            if isinstance(value, Module):
                yield from value.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _named_tensors(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        found: list[tuple[str, Parameter]] = []
        self._collect_tensors(prefix, found)
        return found

    def _collect_tensors(self, prefix: str, found: list[tuple[str, Parameter]]) -> None:
        # A list filled by plain recursion: nested generators cost more, and parameters()
        # runs every training step (gradient clipping).
        for name, value in self._children():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Parameter):
                found.append((full, value))
            else:
                value._collect_tensors(full, found)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a shared (tied) parameter appears once, under its first name."""
        seen: set[int] = set()
        for name, p in self._named_tensors():
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter by name; tied parameters appear under each name (as in PyTorch)."""
        return {name: p.data.copy() for name, p in self._named_tensors()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values into the parameters (in place, keeping each parameter's dtype).

        Raises
        ------
        InvalidValueError
            With ``strict``: keys missing or unexpected. Always: a shape mismatch.
        """
        if not isinstance(state_dict, Mapping):
            raise InvalidTypeError("load_state_dict: argument 'state_dict' must be a mapping of "
                                   f"names to arrays; got {type(state_dict).__name__}.")
        own = dict(self._named_tensors())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise InvalidValueError(f"load_state_dict: {type(self).__name__} has missing keys "
                                    f"{missing} and unexpected keys {unexpected}.")
        arrays = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            if hasattr(value, "detach"):  # a torch tensor
                value = value.detach().cpu().numpy()
            arr = np.asarray(value)
            if arr.shape != p.shape:
                raise ShapeError(f"load_state_dict: '{name}' has shape {arr.shape} in the "
                                 f"state dict but {p.shape} in the model.")
            arrays[name] = arr
        for name, arr in arrays.items():
            own[name].data[...] = arr

    def train(self, mode: bool = True) -> Module:
        mode = check_bool(mode, "mode", "train")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to None by default, as PyTorch)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def num_params(self) -> int:
        return sum(p.data.size for p in self.parameters())


class ModuleList(Module):
    """Modules in a list, named '0', '1', … (like ``torch.nn.ModuleList``).

    Lesson: none (a building block of the models).
    """

    def __init__(self, modules: list[Module]) -> None:
        self._items = list(modules)
        for i, m in enumerate(self._items):
            if not isinstance(m, Module):
                raise InvalidTypeError(f"ModuleList: item {i} must be a Module; got "
                                       f"{type(m).__name__}.")

    def _children(self) -> Iterator[tuple[str, Any]]:
        yield from ((str(i), m) for i, m in enumerate(self._items))

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> Module:
        return self._items[i]


class ModuleDict(Module):
    """Modules by name, reachable as attributes (like ``torch.nn.ModuleDict``).

    Lesson: none (a building block of the models).
    """

    def __init__(self, **modules: Module) -> None:
        for name, m in modules.items():
            setattr(self, name, m)


def float_dtype(dtype: Any, op: str) -> np.dtype:
    """float32 or float64 as a NumPy dtype; anything else refused, naming ``op``."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise InvalidTypeError(f"{op}: argument 'dtype' must be float32 or float64; got {dt}.")
    return dt
