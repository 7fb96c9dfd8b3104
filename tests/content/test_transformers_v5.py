"""docs/transformers-v5.md, row by row, against the pinned transformers.

The page's tables (header 「| 旧写法 | 新写法 | …」) are read here.  Every row needs a check in
CHECKS, keyed by its first cell exactly as written, and every check needs its row: the page
cannot gain a claim that nothing runs.  A check runs the row's own code spans (old code, new
code) in a small offline laboratory -- a one-layer GPT-2 and a BERT tokenizer with a dozen
words, both made on the spot -- asserts what the old code does on this version and that the
new code works (and the facts the page gives as reasons), and returns what it saw: the error
and warning texts, and whether the old code runs without any error or warning.  Each code span
in the row's third cell must be one of those texts (「…」 stands for a left-out part), and the
cell says 「不报错」 exactly when the old code runs without complaint.

Every assertion about old code fails under transformers 4.x, where that code ran (or, for
TRANSFORMERS_CACHE and the default dtype, behaved differently).  Nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
import json
import logging
import os
import re
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
import transformers

from tests.content.pages import DOCS

PAGE = DOCS / "transformers-v5.md"
HEADER = re.compile(r"^\| *旧写法 *\| *新写法 *\|")
SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
SILENT = "不报错"


# --- the page -----------------------------------------------------------------------------


def spans(cell: str) -> list[str]:
    """The code spans of a table cell (CommonMark: one space inside double backticks is padding)."""
    out = []
    for m in SPAN.finditer(cell):
        text = m[2]
        if len(text) > 2 and text.startswith(" ") and text.endswith(" "):
            text = text[1:-1]
        out.append(text)
    return out


@dataclass
class Row:
    section: str
    old: str      # the cells as written
    new: str
    shown: str

    @property
    def old_code(self) -> list[str]:
        return spans(self.old)

    @property
    def new_code(self) -> list[str]:
        return spans(self.new)


def page_rows(markdown: str) -> list[Row]:
    rows, section, in_table = [], "", False
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if HEADER.match(line):
            in_table = True
            continue
        if in_table and re.match(r"^\| *-", line):
            continue
        if in_table and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert len(cells) == 3, f"a row of three cells: {line}"
            rows.append(Row(section, *cells))
        else:
            in_table = False
    return rows


def shown_matches(span: str, text: str) -> bool:
    """The span is the text with parts left out (「…」), in order."""
    pos = 0
    for part in span.split("…"):
        found = text.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True


# --- the laboratory -----------------------------------------------------------------------

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "你", "好", "谢", "user", "assistant", ":"]
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}:{{ m['content'] }}{% endfor %}"
                 "{% if add_generation_prompt %}assistant:{% endif %}")


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)   # "FutureWarning: ..." and transformers' log warnings

    @property
    def text(self) -> str:
        assert self.error is not None
        return f"{type(self.error).__name__}: {self.error}"

    def deprecations(self) -> list[str]:
        return [w for w in self.warnings if "deprecated" in w]


class Lab:
    def __init__(self, root: Path):
        from transformers import BertTokenizer, GPT2Config, GPT2LMHeadModel

        self.root = root
        self.out = root / "out"
        self.config = GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=32,
                                 bos_token_id=0, eos_token_id=0, pad_token_id=0)
        (root / "vocab.txt").write_text("\n".join(VOCAB), encoding="utf-8")
        self.tokenizer = BertTokenizer(str(root / "vocab.txt"))
        self.tokenizer.chat_template = CHAT_TEMPLATE

        self.model_dir = root / "tiny-gpt2"                      # float32, weights and tokenizer
        GPT2LMHeadModel(self.config).save_pretrained(self.model_dir)
        self.tokenizer.save_pretrained(self.model_dir)

        self.bf16_dir = root / "tiny-gpt2-bf16"                  # saved in bfloat16, config written as by 4.x
        GPT2LMHeadModel(self.config).to(torch.bfloat16).save_pretrained(self.bf16_dir)
        config = json.loads((self.bf16_dir / "config.json").read_text(encoding="utf-8"))
        config["torch_dtype"] = config.pop("dtype")
        (self.bf16_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")

        self.tf_dir = root / "tiny-gpt2-tf-only"                 # the weights of a TensorFlow checkpoint only
        self.config.save_pretrained(self.tf_dir)
        (self.tf_dir / "tf_model.h5").write_bytes(b"not read")

    def new_model(self):
        from transformers import GPT2LMHeadModel

        return GPT2LMHeadModel(self.config)

    def namespace(self, **extra) -> dict:
        from transformers import (AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments,
                                  pipeline)

        return {"torch": torch, "AutoModelForCausalLM": AutoModelForCausalLM, "pipeline": pipeline,
                "BitsAndBytesConfig": BitsAndBytesConfig, "Trainer": Trainer, "TrainingArguments": TrainingArguments,
                "tokenizer": self.tokenizer, "model": self.new_model(), "model_id": str(self.model_dir),
                "out": str(self.out), "text": "你好", "texts": ["你好", "谢谢你"], "summaries": ["好", "谢"],
                "messages": [{"role": "user", "content": "你好"}], **extra}

    def run(self, code: str, ns: dict | None = None, fresh: bool = True) -> Outcome:
        """Run one code span: an expression's value is kept; errors, warnings and log warnings are recorded."""
        from transformers.utils import logging as hf_logging

        ns = self.namespace() if ns is None else ns
        outcome = Outcome()
        records = Records()
        library = logging.getLogger("transformers")
        library.addHandler(records)
        if fresh:
            hf_logging.warning_once.cache_clear()     # a warning shown earlier in the session shows again
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    try:
                        compiled = compile(code, "<page>", "eval")
                    except SyntaxError:
                        exec(compile(code, "<page>", "exec"), ns)
                    else:
                        outcome.value = eval(compiled, ns)
                except Exception as error:  # noqa: BLE001 -- what the page's code raises is the observation
                    outcome.error = error
            outcome.warnings = [f"{w.category.__name__}: {w.message}" for w in caught] + records.messages
        finally:
            library.removeHandler(records)
        return outcome

    def training_args(self, code: str) -> Outcome:
        """TrainingArguments with the page's keyword arguments (which win over these defaults)."""
        return self.run(f"TrainingArguments(**{{'output_dir': out, 'report_to': 'none', 'use_cpu': True, **dict({code})}})")

    def load(self, code: str = "", path: Path | None = None, fresh: bool = True) -> Outcome:
        ns = self.namespace(model_id=str(path or self.model_dir))
        return self.run(f"AutoModelForCausalLM.from_pretrained(model_id, {code})" if code else
                        "AutoModelForCausalLM.from_pretrained(model_id)", ns, fresh)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, monkeypatch_module):
    from huggingface_hub import constants

    monkeypatch_module.setattr(constants, "HF_HUB_OFFLINE", True)   # nothing may reach the network
    return Lab(tmp_path_factory.mktemp("transformers-v5"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@dataclass
class Seen:
    texts: list[str]          # error and warning texts the old code produced
    silent: bool = False      # the old code runs without any error or warning


def unexpected_keyword(outcome: Outcome, name: str) -> str:
    assert isinstance(outcome.error, TypeError), outcome
    assert f"unexpected keyword argument '{name}'" in str(outcome.error), outcome.error
    return outcome.text


def kwarg_name(code: str) -> str:
    return code.split("=", 1)[0].strip()


# --- loading a model: from_pretrained -----------------------------------------------------------


def check_torch_dtype(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = lab.load(old)
    assert before.error is None and before.value.dtype == torch.float16   # still obeyed...
    assert before.deprecations(), before                                   # ...with a log warning
    assert not lab.load(old, fresh=False).deprecations()                   # once per process
    after = lab.load(new)
    assert after.error is None and after.value.dtype == torch.float16 and not after.deprecations()
    # the configuration field has the new name too: config.json is written with "dtype"
    saved = json.loads((lab.model_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["dtype"] == "float32" and "torch_dtype" not in saved
    return Seen(before.deprecations())


def check_default_dtype(row: Row, lab: Lab) -> Seen:
    assert row.old_code == ["dtype"]
    before = lab.load(path=lab.bf16_dir)         # config.json says "torch_dtype": "bfloat16", as 4.x wrote it
    assert before.error is None and not before.warnings
    assert before.value.dtype == torch.bfloat16  # 4.x: float32 unless asked
    [new] = row.new_code
    after = lab.load(new, path=lab.bf16_dir)
    assert after.error is None and after.value.dtype == torch.float32
    source = inspect.getsource(transformers.PreTrainedModel.from_pretrained)
    assert re.search(r'if dtype is None:\s+dtype = "auto"', source)     # the default
    return Seen([], silent=True)


def check_load_in_kbit(row: Row, lab: Lab) -> Seen:
    import importlib.util

    [old], [new] = row.old_code, row.new_code
    before = lab.load(old)
    text = unexpected_keyword(before, kwarg_name(old))
    assert "GPT2LMHeadModel.__init__()" in text   # passed on to the model class: hence its name in the error
    after = lab.load(new)
    assert not isinstance(after.error, TypeError), after   # recognised
    if importlib.util.find_spec("bitsandbytes") is None:
        assert isinstance(after.error, ImportError) and "requires bitsandbytes" in str(after.error), after
    assert hasattr(transformers, "GPTQConfig")     # each method has its configuration class
    return Seen([text])


def check_use_auth_token(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = lab.load(old)
    text = unexpected_keyword(before, "use_auth_token")
    after = lab.load(new)
    assert after.error is None, after
    return Seen([text])


def check_flash_attention(row: Row, lab: Lab) -> Seen:
    import importlib.util

    [old], [new] = row.old_code, row.new_code
    before = lab.load(old)
    text = unexpected_keyword(before, "use_flash_attention_2")
    after = lab.load(new)
    assert not isinstance(after.error, TypeError), after
    if importlib.util.find_spec("flash_attn") is None:
        assert isinstance(after.error, ImportError) and "FlashAttention2" in str(after.error), after
    for implementation in ("eager", "sdpa"):
        assert lab.load(f'attn_implementation="{implementation}"').error is None
    from transformers.integrations import sdpa_attention

    assert "torch.nn.functional.scaled_dot_product_attention(" in inspect.getsource(sdpa_attention)
    return Seen([text])


def check_from_tf(row: Row, lab: Lab) -> Seen:
    [old] = row.old_code
    assert row.new_code == []
    ignored = lab.load(old)                      # on a PyTorch checkpoint: loads as if it were not there
    assert ignored.error is None and not ignored.warnings, ignored
    flax = lab.load("from_flax=True")
    assert flax.error is None and not flax.warnings, flax
    tf_only = lab.load(old, path=lab.tf_dir)     # 4.x would have read tf_model.h5 (with TensorFlow installed)
    assert isinstance(tf_only.error, OSError), tf_only
    assert "model.safetensors" in str(tf_only.error) and "pytorch_model.bin" in str(tf_only.error)
    return Seen([tf_only.text], silent=True)


# --- tokenizers ----------------------------------------------------------------------------------


def check_removed_tokenizer_method(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    method = re.search(r"tokenizer\.(\w+)", old)[1]
    before = lab.run(old)
    assert isinstance(before.error, AttributeError) and f"has no attribute {method}" in str(before.error), before
    after = lab.run(new)
    assert after.error is None and {"input_ids", "attention_mask"} <= set(after.value), after
    # one implementation per model: the "fast" name is the same class
    assert transformers.BertTokenizerFast is transformers.BertTokenizer
    parameters = inspect.signature(type(lab.tokenizer).__call__).parameters
    assert {"max_length", "truncation", "return_tensors", "return_attention_mask"} <= set(parameters)
    return Seen([before.text])


def check_pad_to_max_length(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = lab.run(old)
    assert before.error is None and not before.warnings, before
    assert [len(ids) for ids in before.value["input_ids"]] == [4, 5]    # not padded, no word about it
    as_tensors = lab.run(old[:-1] + ', return_tensors="pt")')
    assert isinstance(as_tensors.error, ValueError), as_tensors
    after = lab.run(new)
    assert after.error is None and [len(ids) for ids in after.value["input_ids"]] == [8, 8]
    longest = lab.run("tokenizer(texts, padding=True)")                 # to the longest of the batch
    assert [len(ids) for ids in longest.value["input_ids"]] == [5, 5]
    long = ["你好谢谢你好谢谢你好"]                                          # 12 tokens with [CLS] and [SEP]
    padded = lab.run(f"tokenizer({long}, max_length=8, padding='max_length')")
    assert [len(ids) for ids in padded.value["input_ids"]] == [12]      # padding does not truncate
    cut = lab.run(f"tokenizer({long}, max_length=8, padding='max_length', truncation=True)")
    assert [len(ids) for ids in cut.value["input_ids"]] == [8]
    return Seen([as_tensors.text], silent=True)


def check_as_target_tokenizer(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = lab.run(old)
    assert isinstance(before.error, AttributeError) and "has no attribute as_target_tokenizer" in str(before.error)
    ns = lab.namespace()
    after = lab.run(new, ns)
    assert after.error is None and ns["labels"]["input_ids"] == lab.tokenizer(ns["summaries"])["input_ids"]
    both = lab.run("tokenizer(texts, text_target=summaries)")   # inputs and labels in one call
    assert both.value["labels"] == ns["labels"]["input_ids"]
    return Seen([before.text])


def check_apply_chat_template(row: Row, lab: Lab) -> Seen:
    ns = lab.namespace()
    [make, generate] = row.old_code
    made = lab.run(make, ns)
    assert made.error is None and isinstance(ns["ids"], transformers.BatchEncoding)   # 4.x: a tensor
    before = lab.run(generate, ns)
    assert type(before.error) is AttributeError and str(before.error) == "", before   # a bare AttributeError
    in_generate = [f for f in traceback.extract_tb(before.error.__traceback__)
                   if f.filename.endswith(os.path.join("generation", "utils.py"))]
    line = in_generate[-1]                                                          # the line that asked for it
    assert isinstance(lab.run("ids.shape", ns).error, AttributeError)   # the old way to cut off the prompt
    ns = lab.namespace()
    for code in row.new_code:
        after = lab.run(code, ns)
        assert after.error is None, after
    assert isinstance(after.value, torch.Tensor) and after.value.shape[1] > ns["inputs"]["input_ids"].shape[1]
    ns["outputs"] = after.value
    answer = lab.run('outputs[0][inputs["input_ids"].shape[-1]:]', ns)
    assert answer.error is None and len(answer.value) == after.value.shape[1] - ns["inputs"]["input_ids"].shape[1]
    legacy = lab.run('tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", '
                     'return_dict=False)')
    assert isinstance(legacy.value, torch.Tensor)     # the old return value, when asked for
    return Seen([before.text, line.line])


# --- training: TrainingArguments and Trainer ------------------------------------------------------


def removed_argument(then=None):
    """A TrainingArguments keyword that 5.x rejects; the new cell holds its replacement (or nothing)."""
    def check(row: Row, lab: Lab) -> Seen:
        [old] = row.old_code
        before = lab.training_args(old)
        text = unexpected_keyword(before, kwarg_name(old))
        assert text.startswith("TypeError: TrainingArguments.__init__()")
        results = []
        for code in row.new_code:
            if re.fullmatch(r"\w+=.+", code):      # a keyword argument of TrainingArguments
                after = lab.training_args(code)
                assert after.error is None and not after.deprecations(), after
                results.append(after.value)
        if then:
            then(row, lab, *results)
        return Seen([text])
    return check


def evaluation_strategy_also(row, lab, args):
    assert args.eval_strategy == "epoch"
    fields = {f.name for f in dataclasses.fields(transformers.TrainingArguments)}
    assert {"eval_steps", "eval_delay", "per_device_eval_batch_size"} <= fields
    seq2seq = lab.run("Seq2SeqTrainingArguments(output_dir=out, evaluation_strategy='epoch')",
                      lab.namespace(Seq2SeqTrainingArguments=transformers.Seq2SeqTrainingArguments))
    assert isinstance(seq2seq.error, TypeError)


def warmup_also(row, lab, args):
    assert args.get_warmup_steps(1000) == 100          # a number below 1 is a share of all steps
    assert lab.training_args("warmup_steps=50").value.get_warmup_steps(1000) == 50


def logging_dir_also(row, lab):
    from transformers.integrations.integration_utils import TensorBoardCallback, default_logdir

    assert row.new_code == ["TENSORBOARD_LOGGING_DIR"]
    source = inspect.getsource(TensorBoardCallback)
    assert 'os.getenv("TENSORBOARD_LOGGING_DIR", None)' in source
    assert "os.path.join(args.output_dir, default_logdir()" in source
    assert default_logdir().startswith("runs" + os.sep)
    assert default_of("report_to") == "none"


def overwrite_also(row, lab):
    assert row.new_code == ["trainer.train(resume_from_checkpoint=True)"]
    assert "resume_from_checkpoint" in inspect.signature(transformers.Trainer.train).parameters
    doc = " ".join(inspect.getdoc(transformers.Trainer.train).split())
    assert "If a `bool` and equals `True`, load the last checkpoint in *args.output_dir*" in doc


def sampling_also(row, lab, args):
    assert args.train_sampling_strategy == "group_by_length"
    [choices] = [f.metadata["choices"] for f in dataclasses.fields(transformers.TrainingArguments)
                 if f.name == "train_sampling_strategy"]
    assert {"random", "sequential", "group_by_length", "batch_rebalance"} <= set(choices)
    assert default_of("train_sampling_strategy") == "random"


def use_cpu_also(row, lab, args):
    assert args.use_cpu is True and default_of("use_cpu") is False
    doc = " ".join(transformers.TrainingArguments.__doc__.split())
    assert "If set to False, we will use the available torch device/backend" in doc


def default_of(name: str):
    [f] = [f for f in dataclasses.fields(transformers.TrainingArguments) if f.name == name]
    return f.default


def check_gradient_checkpointing_argument(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = lab.training_args(old)
    assert before.error is None and before.value.activation_checkpointing is True   # still obeyed
    assert any(w.startswith("FutureWarning:") for w in before.deprecations()), before
    after = lab.training_args(new)
    assert after.error is None and not after.deprecations() and after.value.activation_checkpointing is True
    return Seen(before.deprecations())


def check_trainer_tokenizer(row: Row, lab: Lab) -> Seen:
    ns = lab.namespace()
    ns["args"] = lab.training_args("").value
    [old], [new] = row.old_code, row.new_code
    before = lab.run(old, ns)
    text = unexpected_keyword(before, "tokenizer")
    after = lab.run(new, ns)
    assert after.error is None and after.value.processing_class is lab.tokenizer
    assert not hasattr(after.value, "tokenizer")                   # trainer.tokenizer is gone as well
    parameters = inspect.signature(transformers.Trainer.__init__).parameters
    assert "processing_class" in parameters and "tokenizer" not in parameters
    annotation = str(parameters["processing_class"].annotation)    # what it accepts besides tokenizers
    for kind in ("PreTrainedTokenizerBase", "BaseImageProcessor", "FeatureExtractionMixin", "ProcessorMixin"):
        assert kind in annotation, annotation
    seq2seq = inspect.signature(transformers.Seq2SeqTrainer.__init__).parameters
    assert "processing_class" in seq2seq and "tokenizer" not in seq2seq
    return Seen([text])


def train_one_step(lab: Lab, signature: str) -> Outcome:
    source = (f"class MyTrainer(Trainer):\n"
              f"    {signature}\n"
              f"        outputs = model(**inputs)\n"
              f"        return (outputs.loss, outputs) if return_outputs else outputs.loss\n"
              f"args = TrainingArguments(output_dir=out, report_to='none', use_cpu=True, max_steps=1,\n"
              f"                         per_device_train_batch_size=2, save_strategy='no', disable_tqdm=True)\n"
              f"batch = [{{'input_ids': torch.tensor([1, 2, 3, 4]), 'labels': torch.tensor([1, 2, 3, 4])}}] * 2\n"
              f"MyTrainer(model=model, args=args, train_dataset=batch).train()\n")
    return lab.run(source)


def check_compute_loss(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = train_one_step(lab, old)
    text = unexpected_keyword(before, "num_items_in_batch")
    assert "compute_loss()" in text
    after = train_one_step(lab, new)
    assert after.error is None, after
    source = inspect.getsource(transformers.Trainer.training_step)
    assert "self.compute_loss(model, inputs, num_items_in_batch=num_items_in_batch)" in source
    return Seen([text])


def check_gradient_checkpointing_enable(row: Row, lab: Lab) -> Seen:
    from peft import prepare_model_for_kbit_training

    [old], [new] = row.old_code, row.new_code
    ns = lab.namespace()
    before = lab.run(old, ns)
    assert before.error is None and ns["model"].is_activation_checkpointing, before
    assert [w for w in before.deprecations() if w.startswith("FutureWarning:")], before
    ns = lab.namespace()
    after = lab.run(new, ns)
    assert after.error is None and not after.deprecations() and ns["model"].is_activation_checkpointing
    # peft's QLoRA preparation calls the old method on a quantized model (here: a model that says it is)
    quantized = lab.new_model()
    quantized.is_loaded_in_4bit = True
    via_peft = lab.run("prepare_model_for_kbit_training(quantized)",
                       lab.namespace(prepare_model_for_kbit_training=prepare_model_for_kbit_training,
                                     quantized=quantized))
    assert via_peft.error is None and via_peft.deprecations() == before.deprecations(), via_peft
    return Seen(before.deprecations())


# --- imports and pipelines -------------------------------------------------------------------------


def removed_import(then=None):
    def check(row: Row, lab: Lab) -> Seen:
        [old] = row.old_code
        before = lab.run(old)
        assert isinstance(before.error, ImportError) and "cannot import name" in str(before.error), before
        ns = lab.namespace()
        for code in row.new_code:
            after = lab.run(code, ns)
            assert after.error is None, after
        if then:
            then(row, lab, ns)
        return Seen([before.text])
    return check


def no_tensorflow_or_jax(row, lab, ns):
    assert [n for n in dir(transformers) if re.match(r"(TF|Flax)[A-Z]", n)] == []
    assert not hasattr(transformers, "TFAutoModel") and not hasattr(transformers, "FlaxAutoModel")


def torch_adamw(row, lab, ns):
    assert ns["AdamW"] is torch.optim.AdamW
    assert inspect.signature(torch.optim.AdamW).parameters["weight_decay"].default == 0.01
    assert hasattr(transformers, "get_linear_schedule_with_warmup")   # the schedules stay


def text_datasets(row, lab, ns):
    assert not hasattr(transformers, "LineByLineTextDataset")
    assert callable(ns["dataset"]["train"].map)
    assert list(ns["dataset"]["train"]["text"]) == ["第一行", "第二行"]    # one example per line
    collator = transformers.DataCollatorForLanguageModeling(tokenizer=lab.tokenizer, mlm=False)
    assert collator.mlm is False


@pytest.fixture
def text_file(lab, monkeypatch):
    import datasets

    work = lab.root / "text-dataset"
    work.mkdir(exist_ok=True)
    (work / "train.txt").write_text("第一行\n第二行\n", encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", lab.root / "datasets-cache")


def check_text_dataset(row: Row, lab: Lab) -> Seen:
    from datasets import load_dataset

    [old] = row.old_code
    before = lab.run(old)
    assert isinstance(before.error, ImportError) and "cannot import name 'TextDataset'" in str(before.error)
    ns = lab.namespace(load_dataset=load_dataset)
    [new] = row.new_code
    after = lab.run(f"dataset = {new}", ns)
    assert after.error is None, after
    text_datasets(row, lab, ns)
    return Seen([before.text])


def check_removed_pipeline_task(row: Row, lab: Lab) -> Seen:
    [old], [new] = row.old_code, row.new_code
    before = lab.run(old)
    assert isinstance(before.error, KeyError) and "has been removed" in str(before.error), before
    for task in ("translation", "translation_en_to_zh", "text2text-generation", "question-answering"):
        other = lab.run(f'pipeline("{task}", model=model_id)')
        assert isinstance(other.error, KeyError) and "has been removed" in str(other.error), other
    after = lab.run(new)
    assert after.error is None, after
    assert isinstance(after.value("你好", max_new_tokens=2)[0]["generated_text"], str)
    assert hasattr(transformers, "AutoModelForSeq2SeqLM")
    return Seen([before.text])


# --- environment variables ------------------------------------------------------------------------

HF_VARIABLES = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "XDG_CACHE_HOME")


def hub_settings(lab: Lab, **variables: str) -> dict:
    """What a fresh Python process with only these variables set uses (home: a scratch directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(HF_VARIABLES)}
    env.update(HOME=str(lab.root / "home"), **variables)
    code = ("import json, datasets.config as d; from huggingface_hub import constants as c; "
            "print(json.dumps({'hub': c.HF_HUB_CACHE, 'offline': c.HF_HUB_OFFLINE, 'datasets': str(d.HF_DATASETS_CACHE)}))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def export(code: str) -> tuple[str, str]:
    m = re.fullmatch(r"export (\w+)=(\S+)", code)
    assert m, code
    return m[1], m[2]


def check_transformers_cache(row: Row, lab: Lab) -> Seen:
    import huggingface_hub

    [old], [new] = row.old_code, row.new_code
    name, value = export(old)
    home = str(lab.root / "home")
    scratch = str(lab.root / "fs")            # the page's /data/hf, inside the scratch directory
    before = hub_settings(lab, **{name: value})
    assert before["hub"] == os.path.join(home, ".cache", "huggingface", "hub")    # 4.x: the variable's value
    for package in (transformers, huggingface_hub):                                 # read nowhere, so no warning
        for path in Path(package.__file__).parent.rglob("*.py"):
            assert b"TRANSFORMERS_CACHE" not in path.read_bytes(), path
    assert "cache_dir = constants.HF_HUB_CACHE" in inspect.getsource(transformers.utils.hub)

    name, value = export(new)
    value = scratch + value
    after = hub_settings(lab, **{name: value})
    assert (after["hub"], after["datasets"]) == (f"{value}/hub", f"{value}/datasets")
    assert hub_settings(lab, HF_HUB_CACHE=value)["hub"] == value          # the models' cache alone
    assert hub_settings(lab, TRANSFORMERS_OFFLINE="1")["offline"] is True   # this old variable still works
    return Seen([before["hub"].replace(home, "~", 1)], silent=True)


# --- the connection between the page and the checks -----------------------------------------------

CHECKS = {
    # 加载模型
    "`torch_dtype=torch.float16`": check_torch_dtype,
    "不写 `dtype`": check_default_dtype,
    "`load_in_4bit=True`": check_load_in_kbit,
    "`load_in_8bit=True`": check_load_in_kbit,
    '`use_auth_token="hf_..."`': check_use_auth_token,
    "`use_flash_attention_2=True`": check_flash_attention,
    "`from_tf=True`": check_from_tf,
    # 分词器
    "`tokenizer.encode_plus(text)`": check_removed_tokenizer_method,
    "`tokenizer.batch_encode_plus(texts)`": check_removed_tokenizer_method,
    "`tokenizer(texts, max_length=8, pad_to_max_length=True)`": check_pad_to_max_length,
    "`with tokenizer.as_target_tokenizer(): labels = tokenizer(summaries)`": check_as_target_tokenizer,
    '`ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")`<br>'
    "`model.generate(ids)`": check_apply_chat_template,
    # 训练
    '`evaluation_strategy="epoch"`': removed_argument(evaluation_strategy_also),
    "`warmup_ratio=0.1`": removed_argument(warmup_also),
    '`logging_dir="./logs"`': removed_argument(logging_dir_also),
    "`overwrite_output_dir=True`": removed_argument(overwrite_also),
    "`group_by_length=True`": removed_argument(sampling_also),
    "`no_cuda=True`": removed_argument(use_cpu_also),
    "`gradient_checkpointing=True`": check_gradient_checkpointing_argument,
    "`Trainer(model=model, args=args, tokenizer=tokenizer)`": check_trainer_tokenizer,
    "`def compute_loss(self, model, inputs, return_outputs=False):`": check_compute_loss,
    "`model.gradient_checkpointing_enable()`": check_gradient_checkpointing_enable,
    # 导入与流水线
    "`from transformers import TFAutoModelForSequenceClassification`": removed_import(no_tensorflow_or_jax),
    "`from transformers import AdamW`": removed_import(torch_adamw),
    "`from transformers import TextDataset`": check_text_dataset,
    '`pipeline("summarization", model=model_id)`': check_removed_pipeline_task,
    # 环境变量
    "`export TRANSFORMERS_CACHE=/data/hf`": check_transformers_cache,
}

ROWS = page_rows(PAGE.read_text(encoding="utf-8"))


def test_every_row_has_a_check_and_every_check_a_row():
    keys = [row.old for row in ROWS]
    assert len(keys) == len(set(keys)), "two rows with the same old code"
    assert not set(keys) - set(CHECKS), f"rows without a check: {sorted(set(keys) - set(CHECKS))}"
    assert not set(CHECKS) - set(keys), f"checks without a row: {sorted(set(CHECKS) - set(keys))}"


def test_the_page_names_the_installed_version():
    """Every 5.x.y on the page (「transformers 5.23.0」, the tables' 「旧写法在 5.23.0 上的表现」, the prose)
    is the installed version: the page names no other release."""
    version = importlib.metadata.version("transformers")
    text = PAGE.read_text(encoding="utf-8")
    assert f"transformers {version}" in text
    assert set(re.findall(r"(?<![\d.])5\.\d+\.\d+(?!\.\d)", text)) == {version}


@pytest.mark.parametrize("row", [r for r in ROWS if r.old in CHECKS], ids=lambda r: r.old.strip("`")[:60])
def test_row_holds_on_the_installed_version(row, lab, request):
    if CHECKS[row.old] is check_text_dataset:
        request.getfixturevalue("text_file")
    seen = CHECKS[row.old](row, lab)
    shown = spans(row.shown)
    assert shown or seen.silent, f"the third cell shows no error text: {row.shown}"
    for span in shown:
        assert any(shown_matches(span, text) for text in seen.texts), \
            f"the page shows {span!r}, but the code gives {seen.texts}"
    assert (SILENT in row.shown) == seen.silent, \
        f"「{SILENT}」 belongs in the third cell exactly when the old code runs without complaint: {row.shown}"


def test_every_row_is_explained_below_its_table():
    """Each row is explained in a bullet below its table that names the row's old code (first line) in bold."""
    bullets = [line for line in PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("- **")]
    for row in ROWS:
        name = f"**{row.old.split('<br>')[0]}**"
        assert any(name in line for line in bullets), f"no bullet with {name} explains the row"


def test_the_parsers_can_fail():
    table = "## 节\n\n| 旧写法 | 新写法 | 旧写法的表现 |\n| --- | --- | --- |\n| `a=1` | `b=1` | `TypeError: …'a'` |\n"
    [row] = page_rows(table)
    assert (row.old_code, row.new_code, spans(row.shown)) == (["a=1"], ["b=1"], ["TypeError: …'a'"])
    assert shown_matches("TypeError: …'a'", "TypeError: f() got an unexpected keyword argument 'a'")
    assert not shown_matches("TypeError: …'b'", "TypeError: f() got an unexpected keyword argument 'a'")
    assert spans("`` `x` is deprecated ``") == ["`x` is deprecated"]
