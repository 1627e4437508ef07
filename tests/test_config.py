"""Configuration (`load_config`, `parse_config`): sources, defaults and loud failures."""

from pathlib import Path

import pytest

from gemini_proxy.config import DEFAULT_MODELS, Config, ConfigError, load_config, parse_config


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No CONFIG_YAML and no ./config.yaml unless a test puts them there."""
    monkeypatch.delenv("CONFIG_YAML", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_point_at_google() -> None:
    config = load_config()
    assert config.upstream.ai_studio_base_url == "https://generativelanguage.googleapis.com"
    assert config.upstream.code_assist_base_url == "https://cloudcode-pa.googleapis.com"
    assert config.upstream.oauth_token_url == "https://oauth2.googleapis.com/token"
    assert config.upstream.max_attempts == 3
    assert config.server.max_body_bytes == 10 * 1024 * 1024
    assert config.state.backend == "sqlite"
    assert config.models == DEFAULT_MODELS
    assert config == Config()


def test_default_model_list_is_not_shared_between_configs() -> None:
    first = Config()
    first.models.append("mutated")
    assert Config().models == DEFAULT_MODELS
    assert "mutated" not in DEFAULT_MODELS


YAML = """
upstream:
  ai_studio_base_url: http://127.0.0.1:8081
  code_assist_base_url: http://127.0.0.1:8082
  max_attempts: 5
state:
  backend: memory
server:
  max_body_bytes: 2048
models: [gemini-2.5-flash]
"""


def check_custom(config: Config) -> None:
    assert config.upstream.ai_studio_base_url == "http://127.0.0.1:8081"
    assert config.upstream.code_assist_base_url == "http://127.0.0.1:8082"
    assert config.upstream.oauth_token_url == "https://oauth2.googleapis.com/token"  # untouched
    assert config.upstream.max_attempts == 5
    assert config.state.backend == "memory"
    assert config.server.max_body_bytes == 2048
    assert config.models == ["gemini-2.5-flash"]


def test_explicit_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text(YAML, encoding="utf-8")
    check_custom(load_config(path))
    check_custom(load_config(str(path)))


def test_config_yaml_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_YAML", YAML)
    check_custom(load_config())


def test_config_yaml_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(YAML, encoding="utf-8")
    check_custom(load_config())


def test_explicit_path_beats_environment_which_beats_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "config.yaml").write_text("models: [from-cwd]", encoding="utf-8")
    assert load_config().models == ["from-cwd"]
    monkeypatch.setenv("CONFIG_YAML", "models: [from-env]")
    assert load_config().models == ["from-env"]
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("models: [from-file]", encoding="utf-8")
    assert load_config(explicit).models == ["from-file"]


def test_empty_config_yaml_variable_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONFIG_YAML", "")
    (tmp_path / "config.yaml").write_text("models: [from-cwd]", encoding="utf-8")
    assert load_config().models == ["from-cwd"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "null"])
def test_empty_yaml_gives_defaults(text: str) -> None:
    assert parse_config(text, "test") == Config()


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("modles: [x]", "modles"),
        ("upstream:\n  ai_studio_url: http://x", "upstream.ai_studio_url"),
        ("server:\n  max_body: 5", "server.max_body"),
    ],
)
def test_unknown_key_is_an_error_naming_it(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "my.yaml")
    assert named in str(caught.value)
    assert "my.yaml" in str(caught.value)


def test_unknown_key_in_the_environment_names_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_YAML", "bogus_setting: 1")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert "bogus_setting" in str(caught.value)
    assert "CONFIG_YAML" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("upstream:\n  max_attempts: 0", "upstream.max_attempts"),
        ("upstream:\n  connect_timeout_seconds: -1", "upstream.connect_timeout_seconds"),
        ("server:\n  max_body_bytes: 0", "server.max_body_bytes"),
        ("state:\n  backend: redis", "state.backend"),
        ("models: gemini-2.5-flash", "models"),
    ],
)
def test_invalid_value_is_an_error_naming_it(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "my.yaml")
    assert named in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["upstream: [unclosed", "key: value\n  bad indentation: here\n", "a: b: c", "\tupstream: {}"],
)
def test_invalid_yaml_is_an_error(text: str) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config(text, "my.yaml")


def test_invalid_yaml_in_the_working_directory_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("upstream: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert "config.yaml" in str(caught.value)


@pytest.mark.parametrize("text", ["- a\n- b", "just a string", "42"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_config(text, "my.yaml")
