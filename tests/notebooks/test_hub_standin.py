"""tests/hub_standin.py: the Hugging Face Hub stand-in the notebooks' Hub paths are tested against.

The clients are the real ones (huggingface_hub, transformers, datasets), pointed at the stand-in
with HF_ENDPOINT; every test also checks that they used no route the stand-in does not know."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

from tests.hub_standin import LARGE, HubStandIn
from tools import offline_models

CLOSED = "http://127.0.0.1:9"  # proxies that refuse at once: nothing leaves the machine


def client_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update({name: CLOSED for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")})
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", HF_HOME=str(tmp_path / "hf-home"),
               HF_HUB_DISABLE_TELEMETRY="1", TQDM_DISABLE="1", **extra)
    return env


@pytest.fixture
def small_repo(tmp_path):
    folder = tmp_path / "repo"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "sub" / "weights.bin").write_bytes(os.urandom(LARGE + 1))  # served like an LFS file
    return folder


def test_small_and_large_files_download_and_missing_ones_raise_the_hubs_errors(small_repo, tmp_path):
    with HubStandIn({"model": {"owner/tiny": small_repo}}) as hub:
        get = dict(endpoint=hub.url, cache_dir=tmp_path / "cache")
        assert json.loads(open(hf_hub_download("owner/tiny", "config.json", **get)).read()) == {"model_type": "bert"}
        large = hf_hub_download("owner/tiny", "sub/weights.bin", **get)  # via the redirect to the "CDN"
        assert open(large, "rb").read() == (small_repo / "sub" / "weights.bin").read_bytes()
        with pytest.raises(EntryNotFoundError):
            hf_hub_download("owner/tiny", "missing.json", **get)
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download("owner/none", "config.json", **get)
        assert hub.unknown == []


def test_a_route_it_does_not_know_is_recorded(small_repo):
    import urllib.request

    with HubStandIn({"model": {"owner/tiny": small_repo}}) as hub:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{hub.url}/api/spaces/owner/tiny", timeout=5)
        assert hub.unknown == ["GET /api/spaces/owner/tiny"]


@pytest.mark.slow
def test_a_mirror_set_after_importing_datasets_is_ignored(tmp_path):
    """Why the model-source cell sets HF_ENDPOINT before anything imports datasets: datasets reads
    it once, at import (huggingface_hub alone reads it per call, so the trap is easy to miss)."""
    folder = tmp_path / "tinyds"
    (folder / "data").mkdir(parents=True)
    pd.DataFrame({"text": ["好", "差"], "label": [1, 0]}).to_parquet(folder / "data" / "train-00000-of-00001.parquet")
    load = "print(len(datasets.load_dataset('owner/tinyds')['train']))"
    late = f"import os, datasets\nos.environ['HF_ENDPOINT'] = os.environ.pop('STANDIN')\n{load}"
    early = f"import os\nos.environ['HF_ENDPOINT'] = os.environ.pop('STANDIN')\nimport datasets\n{load}"
    with HubStandIn({"dataset": {"owner/tinyds": folder}}) as hub:
        runs = {name: subprocess.run([sys.executable, "-c", code], env=client_env(tmp_path, STANDIN=hub.url),
                                     capture_output=True, text=True, timeout=120, cwd=tmp_path)
                for name, code in [("late", late), ("early", early)]}
        assert hub.unknown == []
    assert runs["late"].returncode != 0, "a late HF_ENDPOINT reached the stand-in: the notebooks' advice can be simpler"
    assert runs["early"].returncode == 0 and runs["early"].stdout.split()[-1] == "2", runs["early"].stderr[-2000:]


CLIENT = """
import json
from pathlib import Path
from datasets import load_dataset
from huggingface_hub import snapshot_download
from transformers import AutoModelForSequenceClassification, AutoTokenizer

files = sorted(p.name for p in Path(snapshot_download("google-bert/bert-base-chinese")).iterdir())
tokenizer = AutoTokenizer.from_pretrained("google-bert/bert-base-chinese")
model = AutoModelForSequenceClassification.from_pretrained("google-bert/bert-base-chinese", num_labels=2)
data = load_dataset("lansinuote/ChnSentiCorp")
print(json.dumps({"files": files, "labels": model.config.num_labels, "tokens": len(tokenizer("你好")["input_ids"]),
                  "splits": {name: len(part) for name, part in data.items()}}))
"""


@pytest.mark.slow
def test_transformers_and_datasets_load_a_model_and_a_parquet_dataset_by_their_hub_names(tmp_path):
    e5 = offline_models.ensure_all(names=["e5"])["e5"]  # stands in for bert-base-chinese
    data = tmp_path / "chnsenticorp"
    (data / "data").mkdir(parents=True)
    for split, n in [("train", 40), ("validation", 10), ("test", 10)]:
        pd.DataFrame({"label": [i % 2 for i in range(n)], "text": [f"评论{i}" for i in range(n)]}).to_parquet(
            data / "data" / f"{split}-00000-of-00001.parquet")
    with HubStandIn({"model": {"google-bert/bert-base-chinese": e5},
                     "dataset": {"lansinuote/ChnSentiCorp": data}}) as hub:
        done = subprocess.run([sys.executable, "-c", CLIENT], env=client_env(tmp_path, HF_ENDPOINT=hub.url),
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        assert hub.unknown == []
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "model.safetensors" in result["files"] and result["labels"] == 2 and result["tokens"] >= 3
    assert result["splits"] == {"train": 40, "validation": 10, "test": 10}
