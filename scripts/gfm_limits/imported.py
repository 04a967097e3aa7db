"""Imported models: BERTs trained elsewhere, analysed with the same extract, stats and figures.

A condition with `imported` (config/schema.yaml) names Hugging Face
BertForMaskedLM folders, one per ensemble member (for example the paper's
released mrochk/bert-90M-dna-bpe-{1..5}, downloaded with
`huggingface-cli download REPO --local-dir DIR`). Each folder must hold
config.json, the weights (model.safetensors or pytorch_model.bin) and its
tokenizer: a tokenizer.json (HF tokenizers), or a slow tokenizer's vocab.txt
(the Nucleotide Transformer's EsmTokenizer: k-mers, rebuilt here as
tokenizer.kmer_tokenizer; a BertTokenizer: WordPiece). The special tokens are
found by role (special_tokens.py), wherever the tokenizer put them: the
paper's BPE <UNK> <PAD> <CLS> <SEP> <MASK>, the Nucleotide Transformer's
<unk> <pad> <mask> <cls> <eos> <bos> (no separator: <eos> takes that role),
DNABERT's [PAD] [UNK] [CLS] [SEP] [MASK]. All members must share one tokenizer.

`import_tokenizer` writes that tokenizer as the condition's tokenizer.json
(the condition's corpora are then encoded with it, every row <cls> ... <sep>
in its own tokens); `import_member` loads a folder through transformers,
checks it, and writes it as this pipeline's member folder (the weights as
safetensors, the tokenizer, and a training.json that records where it came
from, the sha256 of every file read and the special tokens' ids).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from gfm_limits import special_tokens
from gfm_limits.files import InputError, atomic_path, sha256sum
from gfm_limits.layout import MEMBER_RECORD

log = logging.getLogger(__name__)


def _vocab_tokenizer(folder: Path, specials: special_tokens.SpecialTokens):
    """A tokenizers.Tokenizer for a folder with only a slow tokenizer's vocab.txt: transformers'
    own conversion where it has one (BertTokenizer, DNABERT), else, for the Nucleotide Transformer's
    EsmTokenizer (no fast version), tokenizer.kmer_tokenizer over its vocabulary (the same tokens)."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    vocab = special_tokens.read_vocab_txt(folder / "vocab.txt")
    names = {i: name for name, i in vocab.items()}
    ordinary = [name for name, i in vocab.items() if i not in specials.special]
    kmers = {len(name) for name in ordinary if len(name) > 1}
    config = folder / "tokenizer_config.json"
    kind = json.loads(config.read_text(encoding="utf-8")).get("tokenizer_class") if config.is_file() else None
    nt_like = len(kmers) == 1 and set("ACGT") <= set(ordinary) and all(set(n) <= set("ACGTN") for n in ordinary)
    if kind == "EsmTokenizer" and not nt_like:
        raise InputError(f"{folder}: an EsmTokenizer vocab.txt that is not the Nucleotide Transformer's k-mers "
                         "and single bases; only that one can be rebuilt")
    if kind == "EsmTokenizer" or (kind is None and nt_like):  # k-mers with single-base fallback
        from gfm_limits.tokenizer import kmer_tokenizer

        tok = kmer_tokenizer(vocab, kmers.pop(), names[specials.unk])
    else:
        try:
            hf = AutoTokenizer.from_pretrained(str(folder))
            tok = Tokenizer.from_str(hf.backend_tokenizer.to_str())
        except (OSError, ValueError, AttributeError) as err:
            raise InputError(f"{folder}: no tokenizer.json, and transformers gives no fast tokenizer for its "
                             f"vocab.txt ({err})") from err
    tok.add_special_tokens([names[i] for i in specials.special])  # ids kept: they are in the vocabulary
    return tok


def folder_tokenizer(folder) -> str:
    """The tokenizer.json text of a model folder (rebuilt from vocab.txt where it has none), checked:
    the roles its config gives must be the ones its special tokens' names tell (special_tokens.read
    sees only this file later on)."""
    from tokenizers import Tokenizer

    folder = Path(folder)
    specials = special_tokens.read_folder(folder)
    path = folder / "tokenizer.json"
    if path.is_file():
        try:
            tok = Tokenizer.from_file(str(path))
        except Exception as err:  # the library raises a bare Exception for any malformed file
            raise InputError(f"{path}: not a Hugging Face tokenizers JSON file ({err})") from err
        text = path.read_text(encoding="utf-8")
    else:
        tok = _vocab_tokenizer(folder, specials)
        text = tok.to_str(pretty=True)
    vocab_size = tok.get_vocab_size()
    if vocab_size > 65535:
        raise InputError(f"{folder}: a vocabulary of {vocab_size} does not fit uint16 token arrays")
    by_names = special_tokens.read_text(text, str(path))
    if by_names.ids() != specials.ids():
        raise InputError(f"{folder}: its tokenizer config gives the special tokens the ids {specials.ids()}, "
                         f"but their names in the tokenizer say {by_names.ids()}; rename them (pad, unk, "
                         "cls, sep, mask in [] or <>)")
    return text


def check_tokenizer(folder) -> special_tokens.SpecialTokens:
    """InputError unless the folder's tokenizer can be read and names the five special-token roles."""
    return special_tokens.read_text(folder_tokenizer(folder), str(folder))


def import_tokenizer(folders: list[str], out) -> None:
    """The members' shared tokenizer, checked, as the condition's tokenizer.json."""
    texts = {str(f): folder_tokenizer(f) for f in folders}
    if len(set(texts.values())) > 1:
        digests = {f: hashlib.sha256(t.encode("utf-8")).hexdigest() for f, t in texts.items()}
        raise InputError(f"the imported models of one condition must share one tokenizer; they differ: {digests}")
    specials = special_tokens.read_text(texts[str(folders[0])], str(folders[0]))
    log.info("special tokens of %s: %s (all special ids %s)", folders[0], specials.ids(), specials.special)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(texts[str(folders[0])], encoding="utf-8")


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
    text = folder_tokenizer(folder)
    specials = special_tokens.read_text(text, str(folder))
    try:
        hf = BertForMaskedLM.from_pretrained(str(folder))
    except (OSError, ValueError) as err:
        raise InputError(f"{folder}: transformers could not load the model ({err})") from err
    if hf.config.max_position_embeddings < seq_len:
        raise InputError(f"{config}: max_position_embeddings {hf.config.max_position_embeddings} is below "
                         f"encode.seq_len {seq_len}; lower encode.seq_len")
    if specials.vocab_size > hf.config.vocab_size:
        raise InputError(f"{folder}: its tokenizer has {specials.vocab_size} ids, its model's vocab_size is "
                         f"{hf.config.vocab_size}")
    model = from_hf(hf)
    record = {"imported_from": str(folder.resolve()),
              "files": {p.name: sha256sum(p) for p in sorted(folder.iterdir())
                        if p.is_file() and not p.name.startswith(".")},
              "model": {k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__},
              "special_tokens": specials.ids()}
    with atomic_path(out_dir, directory=True) as tmp:
        save_pretrained(model, specials.pad, tmp)
        (Path(tmp) / "tokenizer.json").write_text(text, encoding="utf-8")
        (Path(tmp) / MEMBER_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    log.info("imported %s (%d layers, hidden %d)", folder, model.cfg.num_layers, model.cfg.hidden_size)
