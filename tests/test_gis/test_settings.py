"""Settings resolution: overrides > environment > settings file > defaults."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.errors import ConfigError, MujunError
from gis.settings import SETTINGS, load_settings


def test_defaults_without_environment(tmp_path):
    s = load_settings(environ={"MUJUN_HOME": str(tmp_path)})
    assert s.home_path == tmp_path
    assert s.dsn is None
    assert s.working_crs is None
    assert s.area_basis == "measured"
    assert s.origins["area_basis"] == "default"


def test_precedence_override_env_file(tmp_path):
    (tmp_path / "settings.yaml").write_text("db_name: from_file\nstorey_height_m: 4\n")
    env = {"MUJUN_HOME": str(tmp_path), "MUJUN_DB_NAME": "from_env"}
    s = load_settings(environ=env)
    assert s.db_name == "from_env" and s.origins["db_name"] == "$MUJUN_DB_NAME"
    assert s.storey_height_m == 4.0 and s.origins["storey_height_m"].endswith("settings.yaml")
    s = load_settings({"db_name": "override"}, environ=env)
    assert s.db_name == "override"


def test_working_crs_accepts_bare_code(tmp_path):
    s = load_settings(environ={"MUJUN_HOME": str(tmp_path), "MUJUN_WORKING_CRS": "4549"})
    assert s.working_crs == "EPSG:4549"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("db_port", "80"),
        ("area_basis", "guess"),
        ("min_overlap_ratio", "1.5"),
        ("progress", "maybe"),
    ],
)
def test_invalid_values_name_the_setting_and_origin(tmp_path, name, value):
    env = {"MUJUN_HOME": str(tmp_path), f"MUJUN_{name.upper()}": value}
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert name in str(err.value) and f"MUJUN_{name.upper()}" in str(err.value)
    assert isinstance(err.value, MujunError) and isinstance(err.value, ValueError)


def test_unknown_key_in_file_is_an_error(tmp_path):
    (tmp_path / "settings.yaml").write_text("dbname: typo\n")
    with pytest.raises(ConfigError, match="unknown setting 'dbname'"):
        load_settings(environ={"MUJUN_HOME": str(tmp_path)})


@pytest.mark.parametrize("dsn", ["postgresql://mujun:hunter2@db.example/mujun",
                                 "postgres://mujun:hunter2@db.example:5433/mujun?sslmode=require",
                                 "postgresql://db.example/mujun?user=u&password=hunter2"])
def test_uri_password_in_settings_file_is_refused(tmp_path, dsn):
    (tmp_path / "settings.yaml").write_text(f"dsn: {dsn}\n")
    with pytest.raises(ConfigError, match="passwords") as info:
        load_settings(environ={"MUJUN_HOME": str(tmp_path)})
    assert "hunter2" not in str(info.value)


def test_uri_without_password_in_settings_file_is_accepted(tmp_path):
    (tmp_path / "settings.yaml").write_text("dsn: postgresql://mujun@db.example/mujun\n")
    assert load_settings(environ={"MUJUN_HOME": str(tmp_path)}).dsn == "postgresql://mujun@db.example/mujun"


def test_password_in_settings_file_is_refused(tmp_path):
    (tmp_path / "settings.yaml").write_text("dsn: host=db password=hunter2\n")
    with pytest.raises(ConfigError, match="passwords"):
        load_settings(environ={"MUJUN_HOME": str(tmp_path)})


def test_missing_explicit_settings_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(
            environ={"MUJUN_HOME": str(tmp_path), "MUJUN_SETTINGS": str(tmp_path / "no.yaml")}
        )


def test_every_setting_has_help_and_valid_default():
    for setting in SETTINGS:
        assert setting.help.strip()
        if setting.default is not None:
            assert setting.convert(setting.default) == setting.default


@given(st.floats(min_value=0, max_value=1))
def test_fraction_settings_accept_unit_interval(x):
    s = load_settings({"min_overlap_ratio": x}, environ={"MUJUN_HOME": "/nonexistent"})
    assert s.min_overlap_ratio == x
