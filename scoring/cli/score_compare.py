"""``mujun score compare RUN_A RUN_B``: two score runs side by side (and ``--what-if``'s output)."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli.options import emit, json_option, overwrite_option

policy_option = click.option(
    "--policy", metavar="NAME|FILE", help="A policy rule set (`mujun policy rulesets` or a "
    "YAML file): also the change in policy amounts, computed in memory, nothing stored.")
policy_param_option = click.option(
    "--policy-param", "policy_params", multiple=True, metavar="NAME=VALUE",
    help="--policy: set a county parameter of the policy rule set (repeatable).")


def policy_param_values(policy: str | None, pairs: tuple[str, ...]) -> dict[str, float]:
    """``--policy-param`` pairs as a dict (refused without ``--policy``)."""
    from scoring.cli.policy import _params

    if pairs and not policy:
        raise click.UsageError("--policy-param goes with --policy RULESET")
    return _params(pairs)


def show_comparison(cmp, output: Path | None, overwrite: bool, as_json: bool) -> None:
    """Print (or emit as JSON) a comparison and write it to ``output`` when given."""
    from scoring.compare_file import write_comparison
    from scoring.compare_runs import comparison_json, comparison_text

    info = write_comparison(cmp, output, overwrite=overwrite) if output else None
    data = comparison_json(cmp)
    if info:
        data["output"] = info
    text = comparison_text(cmp) if not as_json else None
    if info and text is not None:
        text += f"\n\n已写出 {info['path']}（{info['rows']:,} 家档次变化的企业）"
    emit(data, as_json, text)


@click.command("compare")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="compare.xlsx (changed firms, transition matrix, land and tax per class, "
                   "shifts per town and industry) or compare.csv (changed firms).")
@policy_option
@policy_param_option
@overwrite_option
@json_option
@click.pass_obj
def compare_cmd(app, run_a: int, run_b: int, output: Path | None, policy: str | None,
                policy_params: tuple[str, ...], overwrite: bool, as_json: bool) -> None:
    """Compare two score runs: who changed class, and why (评价对比).

    Prints the class transition matrix (A→B …, T and not evaluated included), land and
    tax in each class in each run, class shifts per town and per industry division, and
    the firms whose class changed with the three items whose points moved most. Classes
    are the final ones: an adjustment (`score override`) in force wins. With --policy,
    also the change in policy amounts (元) per firm, class transition and item: the
    rule set applied in memory to each run's classes, nothing stored.
    """
    from scoring.compare_runs import compare_runs

    cmp = compare_runs(app.connect(), run_a, run_b, policy=policy,
                       policy_params=policy_param_values(policy, policy_params))
    show_comparison(cmp, output, overwrite, as_json)
