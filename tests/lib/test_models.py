"""Model options are validated before a run starts (akhbar/lib/models.py), and a streaming run
without a Prism binary says how to build one (akhbar/pipelines/runners.py).

Settings are read once per process, so the cases that set the environment (HF_HUB_OFFLINE,
the Hugging Face cache, AKHBAR_CACHE, PATH, HOME) run ``akhbar`` or Python in a subprocess.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from akhbar.lib.models import ModelError, choose_ner_model
from tests.paths import REPO_ROOT

transformers = pytest.importorskip("transformers", reason="Hugging Face models need the hf extra")


def hf_config(folder: Path, labels: list[str]) -> Path:
    """A real Hugging Face token-classification config, written by transformers itself."""
    config = transformers.BertConfig(vocab_size=64, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=16, id2label=dict(enumerate(labels)),
                                     label2id={name: i for i, name in enumerate(labels)},
                                     architectures=["BertForTokenClassification"])
    config.save_pretrained(folder)
    return folder


def akhbar(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT,
           timeout: float = 180) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "akhbar", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    return proc, time.monotonic() - started


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The run failed with exit 2 and one line on stderr (no traceback, no log noise)."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return lines[0]


# -- Hugging Face folders ---------------------------------------------------------------------


def test_a_folder_whose_labels_map_to_nothing_is_refused(tmp_path):
    folder = hf_config(tmp_path / "bio-ner", ["O", "B-DISEASE", "I-DISEASE", "B-DRUG", "I-DRUG"])
    with pytest.raises(ModelError, match="none of its labels") as caught:
        choose_ner_model(str(folder))
    message = str(caught.value)
    assert "\n" not in message and "B-DISEASE" in message and "PERS/LOC/ORG/MISC" in message


def test_a_partly_mapped_folder_runs_and_warns_with_the_dropped_labels(tmp_path, caplog):
    folder = hf_config(tmp_path / "news-ner", ["O", "B-PER", "I-PER", "B-GPE", "I-GPE", "B-DATE", "I-DATE"])
    with caplog.at_level(logging.WARNING, logger="akhbar.lib.models"):
        chosen = choose_ner_model(str(folder))
    assert chosen.location == str(folder) and chosen.model_id.startswith("news-ner@")
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "akhbar.lib.models"]
    assert "'B-DATE'" in warning and "'I-DATE'" in warning and "PER" not in warning.replace("--ner_model", "")


def test_a_fully_mapped_folder_says_nothing(tmp_path, caplog):
    folder = hf_config(tmp_path / "ok-ner", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])
    with caplog.at_level(logging.WARNING, logger="akhbar.lib.models"):
        assert choose_ner_model(str(folder)).model_id.startswith("ok-ner@")
    assert not [r for r in caplog.records if r.name == "akhbar.lib.models"]


@pytest.mark.parametrize("value", [
    "models/ner-ar-smal",  # a typo under an existing folder: never a hub lookup
    "./ner-ar-small",
    "~/no-such-akhbar-model",
    "/nonexistent/akhbar/model",
    "models/ner-ar-small/extra/level",
])
def test_a_mistyped_local_path_is_an_error(value, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(ModelError, match="no such model folder"):
        choose_ner_model(value)


# -- hub ids while offline ----------------------------------------------------------------------

OFFLINE_CHECK = textwrap.dedent("""
    import json, sys
    from akhbar.lib.models import ModelError, choose_ner_model
    try:
        chosen = choose_ner_model(sys.argv[1])
        result = {"model_id": chosen.model_id}
    except ModelError as exc:
        result = {"error": str(exc)}
    result["heavy"] = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
    print(json.dumps(result))
""")


def offline_choice(hub_id: str, cache: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    proc = subprocess.run([sys.executable, "-c", OFFLINE_CHECK, hub_id], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cache_hub_model(cache: Path, hub_id: str, labels: list[str], commit: str) -> None:
    """The Hugging Face cache layout: models--org--name/{refs/main, snapshots/<commit>/config.json}."""
    repo = cache / ("models--" + hub_id.replace("/", "--"))
    hf_config(repo / "snapshots" / commit, labels)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_an_offline_hub_id_fails_in_one_line_without_loading_torch(tmp_path):
    result = offline_choice("some-org/arabic-ner", tmp_path / "empty-cache")
    assert result["heavy"] == []  # the check is instant: transformers (and with it torch) is never imported
    assert "HF_HUB_OFFLINE=1" in result["error"] and "not in the local Hugging Face cache" in result["error"]


def test_an_offline_hub_id_in_the_local_cache_is_validated_from_it(tmp_path):
    commit = "0123456789abcdef0123456789abcdef01234567"
    cache_hub_model(tmp_path, "some-org/arabic-ner", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], commit)
    cache_hub_model(tmp_path, "some-org/bio-ner", ["O", "B-GENE", "I-GENE"], commit)
    good = offline_choice("some-org/arabic-ner", tmp_path)
    assert good == {"model_id": "some-org/arabic-ner@0123456789", "heavy": []}
    bad = offline_choice("some-org/bio-ner", tmp_path)
    assert "none of its labels" in bad["error"]


def test_akhbar_run_with_an_offline_hub_id_exits_2_in_one_line(tmp_path):
    proc, seconds = akhbar("run", "--feeds", str(tmp_path / "feeds.txt"), "--output", str(tmp_path / "out"),
                           "--ner_model", "some-org/arabic-ner",
                           env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf")})
    line = one_line_error(proc)
    assert line.startswith("akhbar run: --ner_model some-org/arabic-ner: ") and "HF_HUB_OFFLINE=1" in line


# -- akhbar run checks the models before it reads anything --------------------------------------------


class CountingFeedServer(ThreadingHTTPServer):
    """A feed server on 127.0.0.1 that counts the requests it gets."""

    def __init__(self) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.requests += 1
                self.send_response(404)
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/rss.xml"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.mark.parametrize("flag,value,says", [
    ("--ner_model", "models/ner-ar-smal", "no such model folder"),
    ("--event_model", "models/events-ar-smal", "not an event model folder"),
    ("--near_dup_model", "models/neardup/no-such-scorer.json", "--near_dup_model"),
])
def test_akhbar_run_with_a_bad_model_exits_2_before_reading_any_feed(tmp_path, flag, value, says):
    server = CountingFeedServer()
    try:
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(server.url + "\n")
        out = tmp_path / "out"
        proc, _ = akhbar("run", "--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", flag, value)
        line = one_line_error(proc)
    finally:
        server.stop()
    assert line.startswith("akhbar run: ") and says in line and value in line
    assert server.requests == 0 and not out.exists()


# -- streaming without a Prism binary ----------------------------------------------------------------


def test_streaming_without_prism_and_without_network_names_the_go_install_command(tmp_path):
    """No AKHBAR_PRISM, an empty cache, no prism on PATH, an empty Beam cache (HOME), and every
    download refused (a proxy on a closed port): the run stops at once and says how to build Prism."""
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("http://127.0.0.1:9/rss.xml\n")
    (tmp_path / "home").mkdir()
    (tmp_path / "cache").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "AKHBAR_PRISM" and not k.lower().endswith("_proxy")}
    env.update({"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
                "AKHBAR_CACHE": str(tmp_path / "cache"), "NO_PROXY": "", "no_proxy": ""})
    env.update({name: "http://127.0.0.1:9" for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")})
    assert not any(Path(d, "prism").exists() for d in env["PATH"].split(":"))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "akhbar", "run", "--streaming", "--feeds", str(feeds),
                           "--output", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=180, env=env)
    seconds = time.monotonic() - started
    line = one_line_error(proc)
    assert "go install github.com/apache/beam/sdks/v2/go/cmd/prism@v2.77.0" in line, line
    assert "could not download" in line and not (tmp_path / "out").exists()
    assert seconds < 120, f"took {seconds:.0f}s"
