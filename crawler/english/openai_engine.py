"""The ``openai`` engine: any server that speaks the OpenAI chat-completions protocol.

Hosted APIs (OpenAI, DeepSeek, Qwen/DashScope...) and local servers (Ollama, vLLM, llama.cpp's
server, LM Studio) alike. The base URL, key and model come from the options, else from
``$OPENAI_BASE_URL``, ``$OPENAI_API_KEY`` and ``$CORPUS_MODEL``. Retrying is left to the caller
(:mod:`.calls`), so the client's own retries are off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import openai

from .engines import EngineError, Reply, estimate_tokens

NO_KEY = "no-key-needed"  # local servers take any key, but the client insists on one


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class OpenAIEngine:
    model: str
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 120.0
    context_tokens: int = 8192
    temperature: float = 0.0
    name: str = "openai"
    _served: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = self.api_key or os.environ.get("OPENAI_API_KEY")
        if not key and not self.base_url:
            raise EngineError(
                "the openai engine needs an API key ($OPENAI_API_KEY) for the hosted API, or a local "
                "server's address ($OPENAI_BASE_URL, e.g. http://127.0.0.1:11434/v1 for Ollama)",
                fatal=True,
            )
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=key or NO_KEY, timeout=self.timeout, max_retries=0
        )

    @property
    def version(self) -> str:
        host = urlsplit(str(self._client.base_url)).netloc
        served = f"; served as {', '.join(sorted(self._served))}" if self._served - {self.model} else ""
        return f"openai-python {openai.__version__}; {host}{served}"

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float | None = None) -> Reply:
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=self.temperature if temperature is None else temperature,
            )
        except openai.RateLimitError as e:
            raise EngineError(f"rate limited ({e.status_code})", transient=True, retry_after=_retry_after(e)) from e
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise EngineError(f"the server refused the API key ({e.status_code}): check $OPENAI_API_KEY", fatal=True) from e
        except openai.NotFoundError as e:
            raise EngineError(
                f"the server at {self._client.base_url} has no model {self.model!r} ({e.status_code})", fatal=True
            ) from e
        except openai.BadRequestError as e:
            raise EngineError(f"the server rejected the request ({e.status_code}): {e.message[:200]}") from e
        except openai.APIStatusError as e:
            raise EngineError(f"server error {e.status_code}", transient=True, retry_after=_retry_after(e)) from e
        except openai.APITimeoutError as e:
            raise EngineError(f"no answer within {self.timeout:g} s", transient=True) from e
        except openai.APIConnectionError as e:
            raise EngineError(f"cannot reach {self._client.base_url}: {e.__cause__ or e}", transient=True) from e
        except openai.APIResponseValidationError as e:
            raise EngineError(f"malformed answer: {e.message[:200]}", transient=True) from e
        except ValueError as e:  # a body that is not JSON
            raise EngineError(f"malformed answer: {e}", transient=True) from e
        return self._reply(completion)

    def _reply(self, completion: object) -> Reply:
        # A server that answers 200 with something other than a completion gets a clear error,
        # not an AttributeError deep in the caller.
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise EngineError(f"malformed answer: no choices in {str(completion)[:200]!r}", transient=True)
        message = getattr(choices[0], "message", None)
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            raise EngineError(f"malformed answer: no message content in {str(choices[0])[:200]!r}", transient=True)
        served = getattr(completion, "model", None)
        if isinstance(served, str) and served:
            self._served.add(served)
        return Reply(content, getattr(choices[0], "finish_reason", None), served if isinstance(served, str) else None)
