"""Root of the ``mujun`` command line.

Subcommands are discovered through the ``mujun.commands`` entry-point group
(declared in ``pyproject.toml``) and imported only when used or listed, so the
foundation never imports the domain packages and a broken plugin cannot take
the whole CLI down.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import entry_points

import click

from gis import __version__
from gis.errors import MujunError

log = logging.getLogger(__name__)


class _BrokenCommand(click.Command):
    """Stands in for a subcommand whose module failed to import."""

    def __init__(self, name: str, error: BaseException):
        super().__init__(name, help=f"（不可用：{error}）")
        self.error = error

    def invoke(self, ctx: click.Context) -> None:
        raise click.ClickException(
            f"命令 {self.name} 无法加载：{self.error}。请用 `make install` 重新安装，"
            "或用 `mujun -v` 查看详细信息。"
        )


class PluginGroup(click.Group):
    """A click group whose commands come from entry points, loaded lazily."""

    group_name = "mujun.commands"

    #: Entry-point group of checks that floors above run after this group's own run (the
    #: contract checks of standard land after a rules run or a score run); ``None``: none.
    #: ``name = "module:function"``, ``function(conn, settings, **run) -> (summary, text)``.
    checks_group: str | None = None

    def run_checks(self, app, **run) -> tuple[dict, list[str]]:
        """Run the registered checks on ``run`` (keyword facts of the run just made);
        their summaries by name and their text lines."""
        out: dict = {}
        lines: list[str] = []
        if self.checks_group is None:
            return out, lines
        for ep in sorted(entry_points(group=self.checks_group), key=lambda e: e.name):
            result, text = ep.load()(app.connect(), app.settings, **run)
            out[ep.name] = result
            lines += [text] if text else []
        return out, lines

    def _entry_points(self) -> dict:
        return {ep.name: ep for ep in entry_points(group=self.group_name)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._entry_points()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        ep = self._entry_points().get(name)
        if ep is None:
            return None
        try:
            return ep.load()
        except Exception as exc:  # a plugin's import error must not break the CLI
            log.debug("loading command %s failed", name, exc_info=True)
            return _BrokenCommand(name, exc)


def _configure_logging(verbosity: int) -> None:
    """Send mujun's logs to stderr: -q errors only, default warnings, -v info, -vv debug."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        verbosity, logging.DEBUG if verbosity > 1 else logging.CRITICAL
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(levelname)s %(name)s: %(message)s" if verbosity > 1 else "%(message)s")
    )
    # mujun's own packages: this one and every package that brings commands
    packages = {"gis"} | {ep.module.split(".")[0] for ep in entry_points(group=PluginGroup.group_name)}
    for name in sorted(packages):
        logger = logging.getLogger(name)
        logger.handlers[:] = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mujun")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (repeat for debug).")
@click.option(
    "-q", "--quiet", count=True,
    help="Less log output on stderr: errors only (-qq: critical errors only)."
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """mujun (亩均): per-mu land efficiency on PostGIS.

    Load parcels, building footprints and enterprise records; measure the land
    each enterprise really occupies; score enterprises and find idle land.

    Data goes to stdout, logs to stderr. Settings come from MUJUN_* environment
    variables or <MUJUN_HOME>/settings.yaml; see README.md.
    """
    from gis.cli.context import AppContext

    _configure_logging(verbose - quiet)
    ctx.obj = AppContext(verbosity=verbose - quiet)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and map errors to exit codes."""
    try:
        cli.main(args=argv, prog_name="mujun", standalone_mode=False)
    except MujunError as exc:
        log.debug("error", exc_info=True)
        click.echo(f"mujun: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("mujun: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("mujun: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # foreign errors that escaped translation: one line, not a traceback
        message, code = _foreign_error(exc)
        if message is None:
            raise
        log.debug("error", exc_info=True)
        click.echo(f"mujun: error: {message}", err=True)
        sys.exit(code)
    sys.exit(0)


def _foreign_error(exc: Exception) -> tuple[str | None, int]:
    """A one-line message for a lost database connection or an OS error on a file."""
    module = type(exc).__module__ or ""
    if module.startswith("psycopg") and type(exc).__name__ in ("OperationalError",
                                                               "InterfaceError"):
        from gis.db.connection import lost_connection_message

        return lost_connection_message(exc), 5
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}", 1
    return None, 1


if __name__ == "__main__":  # pragma: no cover
    main()
