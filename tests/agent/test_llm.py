"""The LLM layer: fake chat models, config resolution, and real clients against a loopback server."""

from __future__ import annotations

import socket
import time

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from agent.errors import AgentError, LLMUnavailable
from agent.llm.backends import make_llm
from agent.llm.client import LLM
from agent.llm.settings import LLMConfig, resolve_llm_config
from agent.llm.spec import parse_spec
from agent.llm.usage import Usage, estimate_tokens
from tests.agent.llm_server import completion, server_error

# -- a loopback server speaking the OpenAI chat-completions and Ollama /api/chat formats ----


@pytest.fixture
def server(llm_server):
    """The scripted server (tests/agent/llm_server.py), answering "ok" when nothing is queued."""
    return llm_server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def no_sleep(delays: list[float]):
    return delays.append


# -- openai: the real langchain-openai client over loopback -------------------------------


def test_openai_request_carries_model_and_messages_and_usage_is_counted(server):
    server.reply = "```python\ndef f(robot):\n    pass\n```"
    llm = make_llm("openai:qwen2.5-coder", base_url=f"{server.url}/v1", timeout=5)
    text = llm.complete([("system", "You write skills."), ("user", "pick up the red cube")])
    assert text == server.reply
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "qwen2.5-coder"
    assert req["body"]["messages"] == [
        {"role": "system", "content": "You write skills."},
        {"role": "user", "content": "pick up the red cube"},
    ]
    assert req["headers"]["authorization"] == "Bearer not-needed"  # local server, no key set
    u = llm.usage
    assert (u.calls, u.prompt_tokens, u.completion_tokens, u.retries, u.estimated) == (
        1,
        31,
        9,
        0,
        False,
    )
    assert u.seconds > 0
    llm.complete("again")
    assert (llm.usage.calls, llm.usage.prompt_tokens) == (2, 62)


def test_openai_key_from_environment_is_sent(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    make_llm("openai:gpt-4o-mini", base_url=f"{server.url}/v1").complete("hi")
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-test-123"


def test_openai_500_then_200_is_retried(server):
    server.script = [server_error(500, "CUDA out of memory")]
    delays: list[float] = []
    llm = make_llm(
        "openai:m", base_url=f"{server.url}/v1", max_retries=2, backoff=0.25, sleep=no_sleep(delays)
    )
    assert llm.complete("hi") == "ok"
    assert len(server.requests) == 2 and delays == [0.25]
    assert llm.usage.retries == 1 and llm.usage.calls == 1


def test_openai_429_honours_retry_after_and_backs_off_exponentially(server):
    server.script = [
        (429, {"error": {"message": "slow down"}}, {"Retry-After": "2"}, 0.0),
        server_error(503, "loading model"),
    ]
    delays: list[float] = []
    llm = make_llm(
        "openai:m", base_url=f"{server.url}/v1", max_retries=3, backoff=0.5, sleep=no_sleep(delays)
    )
    assert llm.complete("hi") == "ok"
    assert delays == [2.0, 1.0]


@pytest.mark.parametrize("status", [408, 409, 425, 502, 503])
def test_openai_transient_statuses_are_retried(server, status):
    server.fail(status, "busy")
    delays: list[float] = []
    llm = make_llm("openai:m", base_url=server.base_url, backoff=0.1, sleep=no_sleep(delays))
    assert llm.complete("hi") == "ok"
    assert len(server.requests) == 2 and delays == [0.1] and llm.usage.retries == 1


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_openai_other_4xx_are_not_retried_and_say_the_server(server, status):
    server.fail(status, "context length exceeded")
    llm = make_llm("openai:m", base_url=server.base_url, max_retries=3, sleep=no_sleep([]))
    with pytest.raises(AgentError) as info:
        llm.complete("hi")
    message = str(info.value)
    assert f"LLM server at {server.base_url}" in message and f"HTTP {status}" in message
    assert "\n" not in message and "attempts" not in message
    assert len(server.requests) == 1 and llm.usage.retries == 0


def test_each_request_has_the_documented_timeout_and_no_hidden_client_retries():
    from agent.config import DEFAULT_LLM_TIMEOUT as DEFAULT_TIMEOUT

    llm = make_llm("openai:m", base_url="http://127.0.0.1:9/v1")
    assert DEFAULT_TIMEOUT == 120.0 and llm.model.request_timeout == DEFAULT_TIMEOUT
    assert llm.model.max_retries == 0  # retries are ours (tenacity), counted in usage
    assert (
        make_llm("openai:m", base_url="http://127.0.0.1:9/v1", timeout=7).model.request_timeout == 7
    )


@pytest.mark.parametrize("url", ["localhost:8000/v1", "ftp://127.0.0.1:9/v1"])
def test_a_base_url_that_is_not_http_is_refused_before_any_request(url):
    with pytest.raises(AgentError, match=r"^LLM base URL .* must start with http:// or https://"):
        make_llm("openai:m", base_url=url)


def test_an_unsupported_scheme_from_the_client_is_not_retried():
    import httpx

    model = Flaky(httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."))
    llm = LLM(model, name="openai:m", endpoint="ftp://x/v1", max_retries=3, sleep=lambda s: None)
    with pytest.raises(AgentError, match=r"^LLM server URL ftp://x/v1 is not usable: .*'ftp://'"):
        llm.complete("hi")
    assert model.calls == 1 and llm.usage.retries == 0


def test_openai_persistent_500_gives_up_after_the_bound(server):
    server.script = [server_error(500, "boom")] * 5
    llm = make_llm("openai:m", base_url=f"{server.url}/v1", max_retries=2, sleep=no_sleep([]))
    with pytest.raises(AgentError, match=r"failed \(HTTP 500\) \(3 attempts\): boom"):
        llm.complete("hi")
    assert len(server.requests) == 3


def test_openai_unknown_model_is_one_line_and_not_retried(server):
    server.script = [
        (
            404,
            {"error": {"message": "The model `nope` does not exist.", "code": "model_not_found"}},
            {},
            0.0,
        )
    ]
    llm = make_llm("openai:nope", base_url=f"{server.url}/v1", sleep=no_sleep([]))
    with pytest.raises(AgentError) as info:
        llm.complete("hi")
    assert str(info.value).startswith(
        "model 'nope' is not known to the LLM server at http://127.0.0.1"
    )
    assert "\n" not in str(info.value) and len(server.requests) == 1


def test_openai_wrong_path_hints_at_the_base_url(server):
    server.script = [(404, {"detail": "Not Found"}, {}, 0.0)]
    with pytest.raises(AgentError, match="base URL"):
        make_llm("openai:m", base_url=server.url, sleep=no_sleep([])).complete("hi")


def test_openai_closed_port_is_a_quick_one_line_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    port = closed_port()
    llm = make_llm(
        "openai:m", base_url=f"http://127.0.0.1:{port}/v1", timeout=2, max_retries=1, backoff=0.05
    )
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable) as info:
        llm.complete("hi")
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert message.startswith(
        f"LLM server at http://127.0.0.1:{port}/v1 is unreachable: connection refused"
    )
    assert "\n" not in message
    assert llm.usage.retries == 1 and llm.usage.calls == 0


def test_openai_timeout_is_reported(server):
    server.script = [(200, completion("m", "late"), {}, 1.5)]
    llm = make_llm("openai:m", base_url=f"{server.url}/v1", timeout=0.3, max_retries=0)
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable, match=r"did not answer within 0.3 s: timed out"):
        llm.complete("hi")
    assert time.perf_counter() - start < 1.4


def test_openai_needs_a_key_for_the_real_service(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(AgentError, match="OPENAI_API_KEY"):
        make_llm("openai:gpt-4o-mini")


# -- ollama: the real langchain-ollama client over loopback -------------------------------


def test_ollama_chat_and_usage(server):
    server.reply = "hello from ollama"
    llm = make_llm("ollama:llama3.2", base_url=server.url, timeout=5)
    assert llm.complete([("system", "s"), ("user", "u")]) == "hello from ollama"
    req = server.requests[0]
    assert req["path"] == "/api/chat" and req["body"]["model"] == "llama3.2"
    assert [m["role"] for m in req["body"]["messages"]] == ["system", "user"]
    assert (llm.usage.prompt_tokens, llm.usage.completion_tokens) == (17, 4)


def test_ollama_unknown_model(server):
    server.script = [(404, {"error": 'model "nope" not found, try pulling it first'}, {}, 0.0)]
    with pytest.raises(
        AgentError, match=r"^model 'nope' is not known to the LLM server at http://127"
    ):
        make_llm("ollama:nope", base_url=server.url, sleep=no_sleep([])).complete("hi")


def test_ollama_down(monkeypatch):
    port = closed_port()
    llm = make_llm("ollama:m", base_url=f"http://127.0.0.1:{port}", timeout=2, max_retries=0)
    with pytest.raises(
        LLMUnavailable,
        match=rf"^LLM server at http://127.0.0.1:{port} is unreachable: connection refused$",
    ):
        llm.complete("hi")


# -- fake chat models ----------------------------------------------------------------------


def test_fake_list_model_replies_in_order_and_tokens_are_estimated():
    llm = make_llm(FakeListChatModel(responses=["first", "second"]))
    assert llm.complete("a" * 40, system="b" * 8) == "first"
    assert llm.complete([("user", "x")]) == "second"
    u = llm.usage
    assert u.calls == 2 and u.estimated
    assert u.prompt_tokens == estimate_tokens("a" * 40) + estimate_tokens(
        "b" * 8
    ) + estimate_tokens("x")
    assert u.completion_tokens == estimate_tokens("first") + estimate_tokens("second")


def test_generic_fake_model_usage_metadata_is_counted():
    replies = iter(
        [
            AIMessage(
                content="one",
                usage_metadata={"input_tokens": 120, "output_tokens": 30, "total_tokens": 150},
            ),
            AIMessage(
                content="two",
                usage_metadata={"input_tokens": 80, "output_tokens": 20, "total_tokens": 100},
            ),
        ]
    )
    llm = LLM(GenericFakeChatModel(messages=replies), name="fake")
    assert [llm.complete("q"), llm.complete("q")] == ["one", "two"]
    assert llm.usage == Usage(
        calls=2, prompt_tokens=200, completion_tokens=50, seconds=llm.usage.seconds
    )


def test_prompt_objects_are_accepted():
    from agent.llm.prompts import plan_prompt

    seen = []

    class Recorder:
        def invoke(self, messages):
            seen.extend(messages)
            return AIMessage(content='["pick up the red cube"]')

    llm = LLM(Recorder(), name="recorder")
    llm.complete(plan_prompt("pick up the red cube", ["red cube"]))
    assert [m.type for m in seen] == ["system", "human"]


class Flaky:
    """Raises the given exceptions in turn, then answers."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def invoke(self, messages):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return AIMessage(content="done")


def test_transient_errors_are_retried_with_exponential_backoff():
    delays: list[float] = []
    model = Flaky(ConnectionRefusedError(111, "Connection refused"), TimeoutError("read timed out"))
    llm = LLM(model, max_retries=3, backoff=0.5, sleep=delays.append)
    assert llm.complete("hi") == "done"
    assert delays == [0.5, 1.0] and model.calls == 3 and llm.usage.retries == 2


def test_backoff_is_capped_and_retries_are_bounded():
    delays: list[float] = []
    model = Flaky(*[ConnectionRefusedError(111, "Connection refused")] * 10)
    llm = LLM(model, name="x", max_retries=5, backoff=1.0, max_backoff=4.0, sleep=delays.append)
    with pytest.raises(LLMUnavailable, match=r"unreachable: connection refused \(6 attempts\)"):
        llm.complete("hi")
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0] and model.calls == 6


def test_other_errors_are_not_retried():
    model = Flaky(ValueError("bad\nrequest"))
    llm = LLM(model, name="fake", max_retries=3, sleep=lambda s: None)
    with pytest.raises(AgentError, match=r"^LLM call to fake failed \(ValueError: bad request\)$"):
        llm.complete("hi")
    assert model.calls == 1


def test_bad_messages_are_rejected():
    llm = make_llm(FakeListChatModel(responses=["x"]))
    with pytest.raises(AgentError, match="unknown message role"):
        llm.complete([("robot", "hi")])
    with pytest.raises(AgentError, match="no messages"):
        llm.complete([])


# -- specs and configuration ---------------------------------------------------------------


@pytest.mark.parametrize("spec", ["gpt-4o", "claude:opus", "openai:", "ollama: ", ""])
def test_malformed_specs(spec):
    with pytest.raises(AgentError, match="unknown LLM spec"):
        make_llm(spec)


def test_other_langchain_providers_need_their_package_and_the_hub_is_refused():
    with pytest.raises(
        AgentError, match=r"^anthropic:claude-x needs the langchain-anthropic package"
    ):
        make_llm("anthropic:claude-x")
    with pytest.raises(AgentError, match=r"models are not downloaded; use hf:/path"):
        make_llm("huggingface:org/model")


def test_parse_spec_keeps_colons_in_the_model_name():
    assert parse_spec("ollama:qwen2.5-coder:7b") == ("ollama", "qwen2.5-coder:7b")
    assert parse_spec("OpenAI:gpt-4o") == ("openai", "gpt-4o")


def test_hf_path_without_a_model(tmp_path):
    with pytest.raises(AgentError, match=r"^no model at .*config.json"):
        make_llm(f"hf:{tmp_path}")
    with pytest.raises(AgentError, match="no model at"):
        make_llm(f"hf:{tmp_path / 'missing'}")


def test_hf_directory_without_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(AgentError, match="no model weights in"):
        make_llm(f"hf:{tmp_path}")


def tiny_hf_model(path, chat_template: str | None) -> None:
    """A randomly initialised two-layer GPT-2 with a word-level tokenizer, saved to `path`."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = [
        "<unk>",
        "<eos>",
        "def",
        "robot",
        "pick",
        "up",
        "the",
        "red",
        "cube",
        ":",
        "user",
        "system",
        "assistant",
    ]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(path)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(words),
        n_positions=64,
        n_embd=16,
        n_layer=2,
        n_head=2,
        bos_token_id=1,
        eos_token_id=1,
    )
    GPT2LMHeadModel(config).save_pretrained(path)


@pytest.mark.slow  # imports torch and transformers (~5-10 s on a cold start)
@pytest.mark.parametrize(
    "template",
    [None, "{% for m in messages %}{{ m.role }}: {{ m.content }} {% endfor %}assistant:"],
)
def test_hf_local_model_generates_offline_and_counts_tokens(tmp_path, template):
    tiny_hf_model(tmp_path, template)
    llm = make_llm(f"hf:{tmp_path}", max_tokens=4)
    text = llm.complete([("system", "def robot"), ("user", "pick up the red cube")])
    assert isinstance(text, str)
    u = llm.usage
    # system: def robot / user: pick up the red cube / assistant: -> 13 words either way
    assert (u.calls, u.prompt_tokens, u.estimated) == (1, 13, False)
    assert 1 <= u.completion_tokens <= 4


def test_hf_unloadable_model_is_one_line(tmp_path):
    pytest.importorskip("transformers")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"not a model")
    llm = make_llm(f"hf:{tmp_path}")  # nothing is loaded yet
    with pytest.raises(AgentError, match=rf"^cannot load the model at {tmp_path}"):
        llm.complete("hi")


def test_config_precedence(tmp_path):
    (tmp_path / "config.toml").write_text(
        'llm = "ollama:llama3.2"\nllm_base_url = "http://gpu:11434"\n'
    )
    env = {"SKILLGROVE_LLM": "openai:qwen", "SKILLGROVE_LLM_BASE_URL": "http://localhost:8000/v1"}
    assert resolve_llm_config("openai:gpt-4o", "http://x/v1", tmp_path, env) == LLMConfig(
        "openai:gpt-4o", "http://x/v1", "flag"
    )
    assert resolve_llm_config(None, None, tmp_path, env) == LLMConfig(
        "openai:qwen", "http://localhost:8000/v1", "env"
    )
    assert resolve_llm_config(None, None, tmp_path, {}) == LLMConfig(
        "ollama:llama3.2", "http://gpu:11434", "config"
    )
    assert resolve_llm_config(None, None, tmp_path / "empty", {}) is None
    assert resolve_llm_config("offline", None, tmp_path, env) is None


def test_config_json_and_errors(tmp_path):
    (tmp_path / "config.json").write_text('{"llm": "hf:/models/tiny"}')
    assert resolve_llm_config(None, None, tmp_path, {}) == LLMConfig(
        "hf:/models/tiny", None, "config"
    )
    with pytest.raises(AgentError, match="unknown LLM spec"):
        resolve_llm_config("gpt4", None, tmp_path, {})
    (tmp_path / "config.toml").write_text("llm = [broken")
    with pytest.raises(AgentError, match=r"cannot read .*config.toml"):
        resolve_llm_config(None, None, tmp_path, {})


def test_llm_module_imports_no_backend_at_import_time():
    import subprocess
    import sys

    code = (
        "import sys, agent.llm.backends, agent.llm.settings, agent.llm.prompts, agent.llm.extract\n"
        "print([m for m in ('langchain', 'langchain_openai', 'langchain_ollama', 'transformers', 'torch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
