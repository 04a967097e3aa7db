"""Special tokens by role (pad, unk, cls, sep, mask), read from a tokenizer's own files.

This pipeline's tokenizers put [PAD] [UNK] [CLS] [SEP] [MASK] at ids 0..4
(layout.SPECIAL_TOKENS), but models trained elsewhere do not: the paper's BPE
tokenizers (lbcb-sci/GFMs src/train/tokenizer/tokenizer.py) declare <UNK>
<PAD> <CLS> <SEP> <MASK> at ids 0..4 (so pad is 1, unk 0); the Nucleotide
Transformer's k-mer tokenizer (EsmTokenizer, 4107 entries) has <unk> <pad>
<mask> <cls> <eos> <bos> at 0..5 and no separator (its <eos> plays that
role); DNABERT-style BERTs keep the BERT names. So every stage asks this
module which id plays which role instead of assuming ids.

Where a role comes from, first match wins:
  1. special_tokens_map.json, then tokenizer_config.json (`pad_token`, ...;
     `sep_token` falls back to `eos_token`, `cls_token` to `bos_token`), for a
     Hugging Face model folder (`read_folder`);
  2. the token names of the special tokens (tokenizer.json's added_tokens
     with "special": true; without any, the vocabulary's names in [] or <>,
     as in vocab.txt or tokenizer.build_kmer's file):
     the name with [] or <> stripped, case ignored (pad, unk, cls, sep, mask;
     eos or /s for sep, bos or s for cls). A lone tokenizer.json (the
     condition's results/tokenizers/{condition}.json, which every stage after
     the import reads) has only this, so imported.py refuses a folder whose
     config gives a role to a token its name does not tell.

Only json is imported here: the stats environment has no tokenizers library.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gfm_limits.files import InputError

ROLES = ("pad", "unk", "cls", "sep", "mask")
# a role's config keys, in order of preference (HF tokenizer_config.json / special_tokens_map.json)
_CONFIG_KEYS = {"pad": ("pad_token",), "unk": ("unk_token",), "cls": ("cls_token", "bos_token"),
                "sep": ("sep_token", "eos_token"), "mask": ("mask_token",)}
# a role's token names once [] or <> are stripped and case folded, in order of preference
_NAMES = {"pad": ("pad",), "unk": ("unk",), "cls": ("cls", "bos", "s"), "sep": ("sep", "eos", "/s"),
          "mask": ("mask",)}
_OTHER_KEYS = ("bos_token", "eos_token")  # special in a config even when they play no role here


@dataclass(frozen=True)
class SpecialTokens:
    """The ids of the five roles, every special id (roles and others, such as the Nucleotide
    Transformer's <bos>), and the vocabulary size (the largest id + 1)."""

    pad: int
    unk: int
    cls: int
    sep: int
    mask: int
    special: tuple[int, ...]  # sorted
    vocab_size: int

    def ids(self) -> dict[str, int]:
        return {role: getattr(self, role) for role in ROLES}

    def ordinary(self) -> np.ndarray:
        """The non-special ids in increasing order: (V - len(special),) int64."""
        return np.setdiff1d(np.arange(self.vocab_size), np.asarray(self.special, dtype=np.int64))

    def ordinary_index(self) -> np.ndarray:
        """(V,) int64: each ordinary id's rank among the ordinary ids, -1 for special ids."""
        index = np.full(self.vocab_size, -1, dtype=np.int64)
        ordinary = self.ordinary()
        index[ordinary] = np.arange(len(ordinary))
        return index

    def leading(self) -> bool:
        """Whether the special ids are exactly 0..len(special)-1 (this pipeline's own tokenizers)."""
        return self.special == tuple(range(len(self.special)))


def _token_name(value) -> str | None:
    """A config's token entry: a string, or an AddedToken dict with `content`."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _normalise(name: str) -> str:
    return name.strip().strip("[]<>").lower()


def tokenizer_json_vocab(data: dict) -> tuple[dict[str, int], dict[str, int]]:
    """A tokenizer.json's token -> id over its model and added tokens, and its special added tokens."""
    vocab = data.get("model", {}).get("vocab", {})
    if isinstance(vocab, list):  # Unigram: [[token, score], ...]
        vocab = {entry[0]: i for i, entry in enumerate(vocab)}
    vocab = dict(vocab)
    special = {}
    for added in data.get("added_tokens", []):
        vocab[added["content"]] = added["id"]
        if added.get("special"):
            special[added["content"]] = added["id"]
    return vocab, special


def _resolve(where: str, vocab: dict[str, int], special: dict[str, int],
             configured: dict[str, str]) -> SpecialTokens:
    """Roles from `configured` (role -> token name) where given, else from the special tokens' names."""
    by_name = {_normalise(name): i for name, i in special.items()}
    ids, missing = {}, []
    for role in ROLES:
        name = configured.get(role)
        if name is not None:
            if name not in vocab:
                raise InputError(f"{where}: its {role} token {name!r} is not in the vocabulary")
            ids[role] = vocab[name]
            continue
        found = [by_name[n] for n in _NAMES[role] if n in by_name]
        if found:
            ids[role] = found[0]
        else:
            missing.append(role)
    if missing:
        raise InputError(f"{where}: no {', '.join(missing)} token among its special tokens "
                         f"{sorted(special, key=special.get)}; name them in special_tokens_map.json "
                         f"or tokenizer_config.json ({', '.join(k for r in missing for k in _CONFIG_KEYS[r])})")
    if len(set(ids.values())) < len(ROLES):
        raise InputError(f"{where}: one token plays several roles: {ids}")
    all_special = sorted(set(special.values()) | set(ids.values()))
    return SpecialTokens(**ids, special=tuple(all_special), vocab_size=max(vocab.values()) + 1)


def _bracketed(vocab: dict[str, int]) -> dict[str, int]:
    """Without special flags (a bare vocab.txt; tokenizer.build_kmer's WordLevel JSON, whose
    specials are plain vocabulary entries), the special tokens are the names in [] or <>."""
    return {name: i for name, i in vocab.items() if len(name) > 2 and name[0] + name[-1] in ("[]", "<>")}


def read(path: str | os.PathLike) -> SpecialTokens:
    """The special tokens of a tokenizer.json file, by the names of its special added tokens."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"{path}: not a readable tokenizer JSON file ({err})") from err
    return read_text(text, str(path))


def read_text(text: str, where: str) -> SpecialTokens:
    """read() of a tokenizer.json's text; `where` names it in errors."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise InputError(f"{where}: not a tokenizer JSON file ({err})") from err
    vocab, special = tokenizer_json_vocab(data)
    return _resolve(where, vocab, special or _bracketed(vocab), {})


def _config_roles(folder: Path) -> tuple[dict[str, str], set[str], dict[str, int]]:
    """Role -> token name from special_tokens_map.json then tokenizer_config.json; the names of
    every other special token they declare; and tokenizer_config's added_tokens_decoder specials."""
    roles: dict[str, str] = {}
    others: set[str] = set()
    decoder: dict[str, int] = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        file = folder / name
        if not file.is_file():
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as err:
            raise InputError(f"{file}: not JSON ({err})") from err
        for role in ROLES:
            for key in _CONFIG_KEYS[role]:
                token = _token_name(data.get(key))
                if token is not None:
                    roles.setdefault(role, token)
                    break
        others |= {t for t in map(_token_name, [data.get(k) for k in _OTHER_KEYS]
                                  + list(data.get("additional_special_tokens") or [])) if t}
        for i, added in (data.get("added_tokens_decoder") or {}).items():
            if added.get("special"):
                decoder[added["content"]] = int(i)
    return roles, others, decoder


def read_vocab_txt(path: Path) -> dict[str, int]:
    """A slow tokenizer's vocab.txt: one token a line, its id the line number."""
    return {line.rstrip("\n"): i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(True))}


def read_folder(folder: str | os.PathLike) -> SpecialTokens:
    """The special tokens of a Hugging Face model folder: roles from its config files where they
    name them, else from the special tokens' names; ids from tokenizer.json, else vocab.txt."""
    folder = Path(folder)
    roles, others, decoder = _config_roles(folder)
    if (folder / "tokenizer.json").is_file():
        try:
            data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        except ValueError as err:
            raise InputError(f"{folder / 'tokenizer.json'}: not a Hugging Face tokenizers JSON file ({err})") from err
        vocab, special = tokenizer_json_vocab(data)
    elif (folder / "vocab.txt").is_file():
        vocab, special = read_vocab_txt(folder / "vocab.txt"), {}
    else:
        raise InputError(f"{folder}: no tokenizer.json or vocab.txt in the model folder")
    special |= {name: i for name, i in decoder.items() if vocab.get(name) == i}
    special = special or _bracketed(vocab)
    special |= {name: vocab[name] for name in [*roles.values(), *others] if name in vocab}
    return _resolve(str(folder), vocab, special, roles)
