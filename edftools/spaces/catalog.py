"""The paper's design spaces, presets for small inputs, overrides and TOML recipes.

AnyNetX_A..E (DDS Table 1): 4 stages; ``d_i`` in 1..16 and ``w_i`` in 8..1024 step 8
(log-uniform), ``b_i`` in {1, 2, 4}, ``g_i`` in {1, 2, 4, 8, 16, 32} (uniform); 224x224 input,
3x3 s2 stem to 32 channels, stride 2 per stage. B adds ``b_{i+1} = b_i``, C ``g_{i+1} = g_i``,
D ``w_{i+1} >= w_i``, E ``d_{i+1} >= d_i``.

RegNet (DDS §3.3): ``d`` in 1..63 (uniform, as pycls's ``rand_int``), ``w0`` in 8..248 step 8,
``wa`` in 0.1..255.9 step 0.1, ``wm`` in 1.5..3 step 0.001 (log-uniform, pycls's quantization),
``b`` and ``g`` as in AnyNet; configs with other than 4 stages are excluded. RegNetX adds
``b = 1``, ``d <= 40``, ``wm >= 2``; RegNetY is RegNetX with SE (block type Y).

Overrides (``get_space(name, **overrides)`` or the keys of a TOML recipe, see ``space.py``):
``name dist num_stages strides block_type stem_type stem_width resolution num_classes
in_channels se_ratio group_width_sampler preset restrictions replace_restrictions`` and any
parameter name
(``depth=(1, 4)`` keeps the grid's step and log flag; a list gives choices; a dict
``{lo, hi, step, log}``). ``preset="digits"`` is the 8x8x1, 10-class, small-stem, 3-stage
(strides 1, 2, 2) version with ``d`` in 1..4 and ``w`` in 8..128 (RegNet: ``d`` in 3..12,
``w0`` in 8..48, ``wa`` in 0.5..32)::

    get_space("AnyNetX_A", preset="digits")
    get_space("RegNetX", preset="digits", depth=(4, 10))

``group_width_sampler``: ``"paper"`` (default; the DDS paper: ``g`` uniform over
{1, 2, 4, 8, 16, 32}) or ``"pycls"`` (pycls's RegNet sweep sampler
``power2_or_log_uniform(1, 32, 8)``: 1, 2, 4, 8, 16 with 1/6 each, 24 with ~9.7%, 32 ~6.9%)::

    get_space("RegNetX", group_width_sampler="pycls")
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from edftools.errors import SpaceError
from edftools.spaces.restrictions import (
    Fixed,
    Monotone,
    Range,
    Restriction,
    Shared,
    canonical_param,
    restriction_from_dict,
)
from edftools.spaces.sampling import power2_or_log_uniform_pmf
from edftools.spaces.space import FAMILY_PARAMS, ParamSpec, Space

B_VALUES = (1, 2, 4)
G_VALUES = (1, 2, 4, 8, 16, 32)


@functools.cache
def _anynet_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec.grid("depth", 1, 16, 1, log=True),
        ParamSpec.grid("width", 8, 1024, 8, log=True),
        ParamSpec("bottleneck_ratio", B_VALUES),
        ParamSpec("group_width", G_VALUES),
    )


@functools.cache
def _regnet_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec.grid("depth", 1, 63, 1),
        ParamSpec.grid("w0", 8, 248, 8, log=True),
        ParamSpec.grid("wa", 0.1, 255.9, 0.1, log=True),
        ParamSpec.grid("wm", 1.5, 3.0, 0.001, log=True),
        ParamSpec("bottleneck_ratio", B_VALUES),
        ParamSpec("group_width", G_VALUES),
    )


def _build() -> dict[str, Space]:
    steps: list[tuple[str, Restriction | None, str]] = [
        ("AnyNetX_A", None, "AnyNetX: 4 free stages (d, w, b, g)"),
        ("AnyNetX_B", Shared("bottleneck_ratio"), "A + shared bottleneck ratio"),
        ("AnyNetX_C", Shared("group_width"), "B + shared group width"),
        ("AnyNetX_D", Monotone("width"), "C + non-decreasing widths"),
        ("AnyNetX_E", Monotone("depth"), "D + non-decreasing depths"),
    ]
    out: dict[str, Space] = {}
    rs: tuple[Restriction, ...] = ()
    for name, r, text in steps:
        rs = rs + ((r,) if r else ())
        out[name] = Space(name, "anynet", _anynet_params(), rs, description=text)
    out["RegNet"] = Space(
        "RegNet", "regnet", _regnet_params(), description="quantized linear widths, 4 stages"
    )
    x_rules = (Fixed("bottleneck_ratio", 1), Range("depth", hi=40), Range("wm", lo=2))
    out["RegNetX"] = Space(
        "RegNetX", "regnet", _regnet_params(), x_rules, description="RegNet + b=1, d<=40, wm>=2"
    )
    out["RegNetY"] = Space(
        "RegNetY",
        "regnet",
        _regnet_params(),
        x_rules,
        block_type="Y",
        description="RegNetX + squeeze-excitation",
    )
    return out


CATALOG: dict[str, Space] = _build()

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "digits": {
        "common": dict(
            resolution=8,
            in_channels=1,
            num_classes=10,
            stem_type="small",
            stem_width=16,
            num_stages=3,
            strides=(1, 2, 2),
        ),
        "anynet": dict(depth=(1, 4), width=(8, 128)),
        "regnet": dict(depth=(3, 12), w0=(8, 48), wa=(0.5, 32)),
    },
}
_SETTINGS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str,),
    "dist": (str,),
    "block_type": (str,),
    "stem_type": (str,),
    "stem_width": (int,),
    "resolution": (int,),
    "num_classes": (int,),
    "in_channels": (int,),
    "num_stages": (int,),
    "se_ratio": (int, float),
    "strides": (list, tuple),
    "group_width_sampler": (str,),
}


class UnknownOverrideError(SpaceError):
    """An override key that is neither a setting nor a parameter of the space.

    ``key`` is the key as given and ``known`` the keys the space accepts, so that a caller
    (a recipe) can name the key's full path.
    """

    def __init__(self, key: str, known: Sequence[str]) -> None:
        self.key, self.known = key, tuple(known)
        super().__init__(f"unknown space setting {key!r}; allowed: {', '.join(self.known)}")


def list_spaces() -> list[str]:
    """Names of the catalog spaces, in refinement order."""
    return list(CATALOG)


def get_space(name: str, **overrides: Any) -> Space:
    """A catalog space by name (case-insensitive), with optional overrides (module docstring)."""
    key = {k.lower(): k for k in CATALOG}.get(str(name).lower())
    if key is None:
        raise SpaceError(f"unknown space {name!r}; known: {', '.join(CATALOG)}")
    space = CATALOG[key]
    return apply_overrides(space, overrides) if overrides else space


def _param_override(spec: ParamSpec, value: Any) -> ParamSpec:
    if isinstance(value, ParamSpec):
        return replace(value, name=spec.name)
    if isinstance(value, Mapping):
        unknown = set(value) - {"lo", "hi", "step", "log"}
        if unknown:
            raise SpaceError(f"parameter {spec.name}: unknown keys {sorted(unknown)}")
        for key in ("lo", "hi", "step"):
            v = value.get(key, 0)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise SpaceError(f"parameter {spec.name}: {key} must be a number, got {v!r}")
        if not isinstance(value.get("log", False), bool):
            raise SpaceError(f"parameter {spec.name}: log must be true or false")
        lo = value.get("lo", spec.values[0])
        hi = value.get("hi", spec.values[-1])
        return ParamSpec.grid(
            spec.name, lo, hi, value.get("step", spec.step), value.get("log", spec.log)
        )
    if isinstance(value, tuple) and len(value) == 2:
        return ParamSpec.grid(spec.name, value[0], value[1], spec.step, spec.log)
    if isinstance(value, list) and value:
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in value):
            raise SpaceError(f"parameter {spec.name}: choices must be numbers, got {value!r}")
        return ParamSpec(spec.name, tuple(value), False)
    raise SpaceError(
        f"parameter {spec.name}: give (lo, hi), a list of choices or a table {{lo, hi, step, log}}"
    )


def apply_overrides(space: Space, overrides: Mapping[str, Any]) -> Space:
    """``space`` with settings, parameter grids and restrictions replaced (module docstring)."""
    overrides = dict(overrides)
    preset = overrides.pop("preset", None)
    if preset is not None:
        if preset not in PRESETS:
            raise SpaceError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
        base = {**PRESETS[preset]["common"], **PRESETS[preset][space.family]}
        overrides = {**base, **overrides}
    settings: dict[str, Any] = {}
    params = {p.name: p for p in space.params}
    restrictions = list(space.restrictions)
    if overrides.pop("replace_restrictions", False):
        restrictions = []
    extra = overrides.pop("restrictions", None) or []
    if not isinstance(extra, list | tuple):
        raise SpaceError("restrictions must be a list of tables")
    for r in extra:
        restrictions.append(r if not isinstance(r, Mapping) else restriction_from_dict(r))
    for key, value in overrides.items():
        pname = canonical_param(key)
        if pname in params:
            params[pname] = _param_override(params[pname], value)
        elif key in _SETTINGS:
            if isinstance(value, bool) or not isinstance(value, _SETTINGS[key]):
                raise SpaceError(f"{key} has wrong type {type(value).__name__}")
            settings[key] = tuple(value) if isinstance(value, list | tuple) else value  # strides
        else:
            allowed = sorted({*_SETTINGS, *FAMILY_PARAMS[space.family], "preset", "restrictions"})
            raise UnknownOverrideError(key, allowed)
    if "num_stages" in settings and "strides" not in settings:
        settings["strides"] = (space.strides[0],) * settings["num_stages"]
    if settings.get("group_width_sampler", space.group_width_sampler) == "pycls":
        # pycls's sampler has its own support over the grid's range (24 is reachable)
        gw = params["group_width"].values
        support = power2_or_log_uniform_pmf(int(gw[0]), int(gw[-1]))[0]
        params["group_width"] = ParamSpec("group_width", tuple(int(x) for x in support))
    return replace(
        space,
        params=tuple(params[n] for n in FAMILY_PARAMS[space.family]),
        restrictions=tuple(restrictions),
        **settings,
    )


def space_from_dict(table: Mapping[str, Any]) -> Space:
    """A space from a TOML recipe table (format in :mod:`edftools.spaces.space`).

    Unknown keys, wrong types and impossible values raise :class:`SpaceError`.
    """
    if not isinstance(table, Mapping):
        raise SpaceError(f"a space recipe must be a table, got {type(table).__name__}")
    t = dict(table)
    base_name = t.pop("base", None)
    family = t.pop("family", None)
    params = t.pop("params", {}) or {}
    if not isinstance(params, Mapping):
        raise SpaceError("[params] must be a table")
    if base_name is not None:
        if not isinstance(base_name, str):
            raise SpaceError("base must be a space name")
        base = get_space(base_name)
        if family is not None and family != base.family:
            raise SpaceError(f"family {family!r} contradicts base {base_name} ({base.family})")
    elif family in FAMILY_PARAMS:
        base = _bare(family, t.get("name", f"custom_{family}"))
    else:
        raise SpaceError(f"a space recipe needs base = <space> or family in {list(FAMILY_PARAMS)}")
    for key in ("preset", "replace_restrictions"):
        if key in t and not isinstance(t[key], str if key == "preset" else bool):
            raise SpaceError(f"{key} has wrong type {type(t[key]).__name__}")
    for key, value in params.items():
        if canonical_param(key) not in FAMILY_PARAMS[base.family]:
            raise SpaceError(f"unknown parameter {key!r} for a {base.family} space")
        t[key] = value
    return apply_overrides(base, t)


def _bare(family: str, name: str) -> Space:
    params = _anynet_params() if family == "anynet" else _regnet_params()
    return Space(name, family, params)
