"""Which engine and model to use: command-line option, else environment, else config file, else none.

Environment: ``$CORPUS_ENGINE`` (openai, llamacpp, none), ``$CORPUS_MODEL``, ``$OPENAI_BASE_URL``,
``$OPENAI_API_KEY``, ``$CORPUS_GLOSSARY``. Config file: ``$CORPUS_CONFIG``, else ``corpus.toml`` in
the working directory, else ``~/.config/mofcom-corpus/config.toml``; its ``[english]`` table::

    [english]
    engine = "openai"                      # openai | llamacpp | none
    model = "qwen2.5:7b"                   # model id, or a GGUF path for llamacpp
    base_url = "http://127.0.0.1:11434/v1" # openai: the server (default: the OpenAI API)
    api_key_env = "DEEPSEEK_API_KEY"       # openai: read the key from this variable
    timeout = 120                          # openai: seconds per request
    context_tokens = 8192                  # openai: the model's context length
    n_ctx = 4096                           # llamacpp: context length to load the model with
    n_threads = 2                          # llamacpp
    temperature = 0.0
    glossary = "my-glossary.tsv"           # instead of the bundled one
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines import ENGINE_NAMES, Engine, EngineError, make_engine

USER_CONFIG = Path("~/.config/mofcom-corpus/config.toml")
_OPENAI_OPTIONS = ("base_url", "timeout", "context_tokens", "temperature")
_LLAMACPP_OPTIONS = ("n_ctx", "n_threads", "seed", "temperature")


@dataclass
class EnglishConfig:
    engine: str = "none"
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    glossary: str | None = None
    source: str = "default"  # where the engine choice came from

    def make_engine(self) -> Engine | None:
        return make_engine(self.engine, self.model, **self.options)


def config_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    if environ.get("CORPUS_CONFIG"):
        path = Path(environ["CORPUS_CONFIG"]).expanduser()
        if not path.is_file():
            raise EngineError(f"$CORPUS_CONFIG names {path}, which is not a file", fatal=True)
        return path
    for candidate in (Path("corpus.toml"), USER_CONFIG.expanduser()):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise EngineError(f"cannot read the config file {path}: {e}", fatal=True) from e
    section = data.get("english", {})
    if not isinstance(section, dict):
        raise EngineError(f"{path}: [english] must be a table", fatal=True)
    return section


def resolve_config(
    engine: str | None = None,
    model: str | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    file_settings: Mapping[str, Any] | None = None,
) -> EnglishConfig:
    """The engine settings, each from the first place that gives it: the arguments (the CLI), the
    environment, the config file."""
    path = None
    if file_settings is None:
        path = config_path(environ)
        file_settings = read_config_file(path)
    name, source = engine, "command line"
    if not name and environ.get("CORPUS_ENGINE"):
        name, source = environ["CORPUS_ENGINE"], "$CORPUS_ENGINE"
    if not name and file_settings.get("engine"):
        name, source = str(file_settings["engine"]), str(path or "config file")
    name = (name or "none").lower()
    if name not in ENGINE_NAMES:
        raise EngineError(f"unknown engine {name!r} (from {source}): choose one of {', '.join(ENGINE_NAMES)}", fatal=True)
    chosen_model = model or environ.get("CORPUS_MODEL") or file_settings.get("model")
    options: dict[str, Any] = {}
    if name == "openai":
        options = {k: file_settings[k] for k in _OPENAI_OPTIONS if k in file_settings}
        if environ.get("OPENAI_BASE_URL"):
            options["base_url"] = environ["OPENAI_BASE_URL"]
        key_variable = str(file_settings.get("api_key_env") or "OPENAI_API_KEY")
        if environ.get(key_variable):
            options["api_key"] = environ[key_variable]
    elif name == "llamacpp":
        options = {k: file_settings[k] for k in _LLAMACPP_OPTIONS if k in file_settings}
    glossary = environ.get("CORPUS_GLOSSARY") or file_settings.get("glossary")
    return EnglishConfig(name, str(chosen_model) if chosen_model else None, options, glossary, source if engine or name != "none" else "default")
