"""`hf:/local/dir`: a Hugging Face causal LM from a local directory, offline, loaded on first use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.errors import AgentError
from agent.llm.client import ROLES
from agent.llm.usage import text_of

WEIGHTS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json", "*.gguf")


def check_model_dir(path: Path) -> Path:
    """The directory, if it holds a model (config.json and weights); else one line."""
    if not (path / "config.json").is_file():
        raise AgentError(
            f"no model at {path}: expected a local Hugging Face model directory with config.json"
        )
    if not any(any(path.glob(pattern)) for pattern in WEIGHTS):
        raise AgentError(
            f"no model weights in {path} (expected *.safetensors or *.bin next to config.json)"
        )
    return path


class HFChat:
    """A local Hugging Face causal LM with `invoke(messages)`, loaded on first use, offline."""

    def __init__(
        self, path: str | Path, max_new_tokens: int = 1024, temperature: float | None = None
    ) -> None:
        self.path = Path(path)
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True)
            except Exception as exc:  # noqa: BLE001 - any load failure is one clear line
                detail = " ".join(str(exc).split())[:300]
                raise AgentError(f"cannot load the model at {self.path}: {detail}") from exc
            model.eval()
            self._tokenizer, self._model = tokenizer, model

    def invoke(self, messages: Sequence[Any]) -> Any:
        """Generate a reply to langchain messages; returns an AIMessage with usage metadata."""
        import torch
        from langchain_core.messages import AIMessage

        self._load()
        tok, model = self._tokenizer, self._model
        chat = [{"role": ROLES.get(m.type, "user"), "content": text_of(m)} for m in messages]
        if getattr(tok, "chat_template", None):
            enc = tok.apply_chat_template(
                chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        else:
            prompt = "".join(f"{m['role']}: {m['content']}\n\n" for m in chat) + "assistant:"
            enc = tok(prompt, return_tensors="pt")
        ids = enc["input_ids"]
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.temperature:
            gen.update(do_sample=True, temperature=self.temperature)
        else:
            gen["do_sample"] = False
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with torch.no_grad():
            out = model.generate(
                ids, attention_mask=enc.get("attention_mask"), pad_token_id=pad, **gen
            )
        new = out[0, ids.shape[1] :]
        text = tok.decode(new, skip_special_tokens=True)
        n_in, n_out = int(ids.shape[1]), int(new.shape[0])
        usage = {"input_tokens": n_in, "output_tokens": n_out, "total_tokens": n_in + n_out}
        return AIMessage(content=text, usage_metadata=usage)
