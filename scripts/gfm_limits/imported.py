"""Imported models: BERTs trained elsewhere, analysed with the same extract, stats and figures.

A condition with `imported` (config/schema.yaml) names Hugging Face
BertForMaskedLM folders, one per ensemble member (for example the paper's
released mrochk/bert-90M-dna-bpe-{1..5}, downloaded with
`huggingface-cli download REPO --local-dir DIR`). Each folder must hold
config.json, the weights (model.safetensors or pytorch_model.bin) and
tokenizer.json, an HF tokenizers file with the special tokens [PAD] [UNK]
[CLS] [SEP] [MASK] at ids 0..4 (what this pipeline's own tokenizers and the
paper's BPE tokenizers use). All members must share one tokenizer.

`import_tokenizer` copies that tokenizer (the condition's corpora are then
encoded with it); `import_member` loads a folder through transformers, checks
it, and writes it as this pipeline's member folder (the weights as
safetensors, the tokenizer, and a training.json that records where it came
from and the sha256 of every file read).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from gfm_limits.files import InputError, atomic_path, sha256sum
from gfm_limits.layout import MEMBER_RECORD, SPECIAL_TOKENS

log = logging.getLogger(__name__)


def check_tokenizer(path: Path) -> None:
    """InputError unless `path` is an HF tokenizers JSON with the special tokens at ids 0..4."""
    from tokenizers import Tokenizer

    if not path.is_file():
        raise InputError(f"{path}: no tokenizer.json in the model folder")
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as err:  # the library raises a bare Exception for any malformed file
        raise InputError(f"{path}: not a Hugging Face tokenizers JSON file ({err})") from err
    ids = {name: tok.token_to_id(name) for name in SPECIAL_TOKENS}
    if ids != {name: i for i, name in enumerate(SPECIAL_TOKENS)}:
        raise InputError(f"{path}: the special tokens must be {', '.join(SPECIAL_TOKENS)} at ids 0..4, found {ids}")


def import_tokenizer(folders: list[str], out) -> None:
    """The members' shared tokenizer.json, checked, as the condition's tokenizer."""
    paths = [Path(f) / "tokenizer.json" for f in folders]
    for path in paths:
        check_tokenizer(path)
    digests = {str(p): sha256sum(p) for p in paths}
    if len(set(digests.values())) > 1:
        raise InputError(f"the imported models of one condition must share one tokenizer; they differ: {digests}")
    with atomic_path(out) as tmp:
        shutil.copyfile(paths[0], tmp)


def import_member(folder, out_dir, seq_len: int) -> None:
    """Load an HF BertForMaskedLM folder and write it as a member folder of this pipeline."""
    from transformers import BertForMaskedLM

    from gfm_limits.model import from_hf, save_pretrained

    folder = Path(folder)
    config = folder / "config.json"
    if not config.is_file():
        raise InputError(f"{folder}: no config.json; expected a Hugging Face BertForMaskedLM model folder")
    kind = json.loads(config.read_text()).get("model_type")
    if kind != "bert":
        raise InputError(f"{config}: model_type {kind!r}; only BERT models (model_type 'bert') can be read")
    check_tokenizer(folder / "tokenizer.json")
    try:
        hf = BertForMaskedLM.from_pretrained(str(folder))
    except (OSError, ValueError) as err:
        raise InputError(f"{folder}: transformers could not load the model ({err})") from err
    if hf.config.max_position_embeddings < seq_len:
        raise InputError(f"{config}: max_position_embeddings {hf.config.max_position_embeddings} is below "
                         f"encode.seq_len {seq_len}; lower encode.seq_len")
    model = from_hf(hf)
    record = {"imported_from": str(folder.resolve()),
              "files": {p.name: sha256sum(p) for p in sorted(folder.iterdir())
                        if p.is_file() and not p.name.startswith(".")},
              "model": {k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__}}
    with atomic_path(out_dir, directory=True) as tmp:
        save_pretrained(model, hf.config.pad_token_id or 0, tmp)
        shutil.copyfile(folder / "tokenizer.json", Path(tmp) / "tokenizer.json")
        (Path(tmp) / MEMBER_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    log.info("imported %s (%d layers, hidden %d)", folder, model.cfg.num_layers, model.cfg.hidden_size)
