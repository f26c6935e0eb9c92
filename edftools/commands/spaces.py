"""CLI: ``edftools spaces``, ``edftools sample`` and ``edftools describe``.

Imports only click, numpy and :mod:`edftools.spaces` (``sample`` must start fast).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from edftools.errors import ConfigError, SpaceError


def _ints(text: str, name: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--{name} must be comma-separated integers, got {text!r}") from None


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--{name} must be comma-separated numbers, got {text!r}") from None


def _describe_json(net: Any) -> dict[str, Any]:
    from edftools.spaces.complexity import complexity

    cx = complexity(net)
    return {
        "depths": net.depths,
        "widths": net.widths,
        "group_widths": net.group_widths,
        "bottleneck_ratios": net.bottleneck_ratios,
        "strides": net.strides,
        "block_type": net.block_type,
        **cx.as_dict(),
        "config": net.to_dict(),
    }


def _print_description(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(out))
        return
    for key in ("depths", "widths", "group_widths", "bottleneck_ratios", "strides"):
        click.echo(f"{key:18s} {out[key]}")
    click.echo(f"{'flops':18s} {out['flops']:,}")
    click.echo(f"{'params':18s} {out['params']:,}")
    click.echo(f"{'acts':18s} {out['acts']:,}")


@click.command("spaces")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def spaces_cmd(as_json: bool) -> None:
    """The design spaces, their restrictions and sizes (paper, exact, distinct networks)."""
    from edftools.spaces.count import format_table, space_table

    rows = space_table()
    if as_json:
        click.echo(json.dumps(rows, indent=1))
    else:
        click.echo(format_table(rows))


@click.command("sample")
@click.argument("space")
@click.option("--n", "n", type=int, required=True, help="Number of configs.")
@click.option("--flops", default=None, help="Flops band LO:HI, e.g. 360M:400M.")
@click.option("--params", default=None, help="Params band LO:HI, e.g. 2M:6M.")
@click.option("--acts", default=None, help="Activations band LO:HI.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the sampling (same seed, same configs).",
)
@click.option(
    "--dist",
    type=click.Choice(["log_uniform", "uniform"]),
    default=None,
    help="Base distribution (default: the space's, log-uniform as in the paper).",
)
@click.option("--preset", default=None, help="Space preset, e.g. digits.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines (one config per line).")
def sample_cmd(
    space: str,
    n: int,
    flops: str | None,
    params: str | None,
    acts: str | None,
    seed: int,
    dist: str | None,
    preset: str | None,
    as_json: bool,
) -> None:
    """Sample N configs of SPACE inside the complexity bands.

    With --json each line is the config's JSON (NetConfig.to_dict) plus its flops, params
    and acts (drop those three keys to rebuild the NetConfig).
    """
    from edftools.spaces.catalog import get_space
    from edftools.spaces.space import parse_band

    if n < 0:
        raise SpaceError(f"--n must be >= 0, got {n}")
    sp = get_space(space, preset=preset) if preset else get_space(space)
    bands = {}
    for metric, text in (("flops", flops), ("params", params), ("acts", acts)):
        if text is not None:
            bands[metric] = parse_band(text)
    batch = sp.sample_batch(n, seed=seed, bands=bands, dist=dist)
    lines = []
    for i, net in enumerate(batch.configs):
        cx = {"flops": int(batch.flops[i]), "params": int(batch.params[i])}
        cx["acts"] = int(batch.acts[i])
        if as_json:
            lines.append(json.dumps({**net.to_dict(), **cx}, sort_keys=True))
        else:
            lines.append(
                f"d={net.depths} w={net.widths} b={net.bottleneck_ratios} g={net.group_widths} "
                f"flops={cx['flops'] / 1e6:.1f}M params={cx['params'] / 1e6:.2f}M "
                f"acts={cx['acts'] / 1e6:.2f}M"
            )
    sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))


@click.group("describe")
def describe_cmd() -> None:
    """Describe one RegNet or AnyNet model: stages and exact complexity."""


def _common(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)
    f = click.option("--classes", type=int, default=1000, show_default=True)(f)
    f = click.option("--resolution", type=int, default=224, show_default=True)(f)
    f = click.option("--in-channels", type=int, default=3, show_default=True)(f)
    f = click.option("--stem-width", type=int, default=32, show_default=True)(f)
    f = click.option("--stem-type", type=click.Choice(["imagenet", "small"]), default="imagenet")(f)
    return f


@describe_cmd.command("regnet")
@click.option("--w0", type=int, required=True)
@click.option("--wa", type=float, required=True)
@click.option("--wm", type=float, required=True)
@click.option("--depth", type=int, required=True)
@click.option("--group-width", type=int, required=True)
@click.option("--bottleneck-ratio", type=float, default=1.0, show_default=True)
@click.option("--se", is_flag=True, help="RegNetY (squeeze-excitation).")
@_common
def describe_regnet(w0, wa, wm, depth, group_width, bottleneck_ratio, se, **kw: Any) -> None:
    """A RegNet from (w0, wa, wm, depth, group width[, b, se])."""
    from edftools.spaces.regnet import regnet_config

    net = regnet_config(
        w0,
        wa,
        wm,
        depth,
        group_width,
        bottleneck_ratio,
        se=se,
        resolution=kw["resolution"],
        num_classes=kw["classes"],
        stem_type=kw["stem_type"],
        stem_width=kw["stem_width"],
        in_channels=kw["in_channels"],
    )
    _print_description(_describe_json(net), kw["as_json"])


@describe_cmd.command("anynet")
@click.option("--depths", required=True, help="Per-stage depths, e.g. 1,2,4,7.")
@click.option("--widths", required=True, help="Per-stage widths, e.g. 32,64,160,384.")
@click.option("--bottleneck-ratios", default="1", show_default=True)
@click.option("--group-widths", default="1", show_default=True)
@click.option("--strides", default="2", show_default=True)
@click.option(
    "--block-type", type=click.Choice(["X", "Y", "R", "V", "VR"]), default="X", show_default=True
)
@_common
def describe_anynet(depths, widths, bottleneck_ratios, group_widths, strides, block_type, **kw):
    """An AnyNet from per-stage lists (widths pass through group compatibility)."""
    from edftools.spaces.config import NetConfig

    def one_or_list(values: list):
        return values[0] if len(values) == 1 else values

    net = NetConfig.from_stages(
        _ints(depths, "depths"),
        _ints(widths, "widths"),
        one_or_list(_floats(bottleneck_ratios, "bottleneck-ratios")),
        one_or_list(_ints(group_widths, "group-widths")),
        one_or_list(_ints(strides, "strides")),
        block_type=block_type,
        resolution=kw["resolution"],
        num_classes=kw["classes"],
        stem_type=kw["stem_type"],
        stem_width=kw["stem_width"],
        in_channels=kw["in_channels"],
    )
    _print_description(_describe_json(net), kw["as_json"])
