"""One file per enterprise (一企一档): everything stored about one firm, gathered for
``mujun enterprise show``, ``mujun enterprise sheet`` (PDF) and the review app's
enterprise page.

One module per panel (see :data:`~maps.enterprise_file.panels.TITLES`): the header
(:mod:`.header`), the class history (:mod:`.history`), per-mu figures against the
industry and town averages (:mod:`.per_mu`), land (:mod:`.land`), the parcels on the
imagery of the first and last survey (:mod:`.imagery`), department figures by source and
import date (:mod:`.figures`), warnings and land-status candidates (:mod:`.records`),
policies applied and appeals (:mod:`.ledger`). A bureau chooses the panels with the
setting ``enterprise_panels`` (:mod:`.panels`).

Every read goes through the caller's connection, so the database decides what the user
may see: the command line's owner role reads everything; the review app's restricted role
(``app=True``) reads score figures through the view and the function of migration 0029,
and row-level security leaves out the parcels, figures, warnings, policy amounts and
appeals it may not see. Nothing here computes a score.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from maps.enterprise_file.panels import PANELS, TITLES, choose_panels
from maps.enterprise_file.per_mu import PER_MU
from maps.enterprise_file.text import file_text

if TYPE_CHECKING:
    import psycopg

__all__ = ["PANELS", "PER_MU", "TITLES", "choose_panels", "enterprise_file", "file_text"]


def enterprise_file(conn: psycopg.Connection, credit_code: str, *,
                    panels: Iterable[str] | None = None, app: bool = False) -> dict[str, Any]:
    """The file of one enterprise as plain data: ``{"panels": [...], panel: data, ...}``.

    Parameters
    ----------
    panels : names, optional
        The panels to gather (default every one; the header always).
    app : bool
        Read as the review app's role (score figures through the view of migration 0029).

    Raises
    ------
    EnterpriseNotFound
        The credit code is not in the database (for the app: not in the user's area).
    ConfigError
        An unknown panel name.
    """
    from maps.enterprise_file import (
        figures,
        header,
        history,
        imagery,
        land,
        ledger,
        per_mu,
        records,
    )
    from parcels.codes import normalize_credit_code

    chosen = choose_panels(panels)
    code = normalize_credit_code(credit_code)
    out: dict[str, Any] = {"panels": list(chosen), "header": header.header(conn, code)}
    hist = history.history(conn, code, app=app) if {"history", "per_mu"} & set(chosen) else []
    # the header's tags: the records' (utility, high-tech, first year above designated
    # size), then what the latest score run found beyond the class
    from parcels.vocabulary import ENTERPRISE_TAGS

    out["header"]["tags"] = [ENTERPRISE_TAGS.label(t) for t in out["header"]["record_tags"]] \
        + (hist[-1]["tag_labels"] if hist else [])
    held = land.land(conn, code) if {"land", "imagery", "candidates"} & set(chosen) else []
    makers = {
        "history": lambda: hist,
        "per_mu": lambda: per_mu.per_mu(conn, code, hist, app=app),
        "land": lambda: held,
        "imagery": lambda: imagery.imagery(conn, held),
        "figures": lambda: figures.figures(conn, code),
        "warnings": lambda: records.warnings(conn, code),
        "candidates": lambda: records.candidates(conn, held),
        "policies": lambda: ledger.policies(conn, code),
        "appeals": lambda: ledger.appeals(conn, code),
    }
    for name in chosen[1:]:
        out[name] = makers[name]()
    return out
