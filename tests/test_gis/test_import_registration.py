"""The import machinery knows no domain: kinds are registered by their owners, explicitly.

Run in a fresh interpreter each, so nothing registered by another test hides a
registration that happens at import time.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.test_layers import REPO


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_domain_registers_nothing():
    """Importing ``parcels.importing`` (any module of it) neither adds field tables nor labels."""
    assert _run("""
        import parcels.importing.parcel_import, parcels.importing.enterprise_import
        import parcels.importing.land_right_import
        from gis.importing.headers import FIELD_TABLES
        from gis.importing.report import check_label
        print(sorted(FIELD_TABLES), check_label("duplicate_code"))
    """) == "[] duplicate_code"


def test_an_unregistered_kind_is_refused_until_its_owner_registers_it():
    assert _run("""
        from gis.errors import MappingError
        from gis.importing.headers import load_field_specs
        from gis.importing.report import check_label
        try:
            load_field_specs("enterprises")
        except MappingError as exc:
            print("refused:", exc)
        from parcels.importing.kinds import register_import_kinds
        register_import_kinds()
        print("credit_code" in load_field_specs("enterprises"), check_label("duplicate_code"))
    """).splitlines() == ["refused: unknown import kind 'enterprises'; known: ",
                          "True 宗地代码重复"]


def test_the_footprint_loader_needs_no_registration():
    """The loader hands its own field table to the header kernel (no lookup by name)."""
    assert _run("""
        import gis.importing.footprints
        from gis.importing.headers import FIELD_TABLES
        print(sorted(FIELD_TABLES))
    """) == "[]"
