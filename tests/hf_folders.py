"""Hugging Face model folders as other projects save them, built here (no hub download).

Each writes a tiny random BertForMaskedLM with save_pretrained and the tokenizer files of one
convention, through the transformers class that project uses:
- paper_bpe: lbcb-sci/GFMs src/train/tokenizer/tokenizer.py, a BPE with <UNK> <PAD> <CLS> <SEP>
  <MASK> at ids 0..4 wrapped in PreTrainedTokenizerFast (tokenizer.json + tokenizer_config.json);
- nt_kmer: the Nucleotide Transformer's EsmTokenizer, vocab.txt of <unk> <pad> <mask> <cls> <eos>
  <bos>, the 4096 6-mers and A T C G N (4107 entries), no sep token (vocab.txt only);
- dnabert: a DNABERT-style BertTokenizer, [PAD] [UNK] [CLS] [SEP] [MASK] then the 3-mers, its
  input written as space-separated overlapping k-mers.
"""

import itertools
from pathlib import Path

TEXT = ["the cat sat on the mat", "a dog ran in the park and the cat ran too", "on the mat sat a dog"] * 20
DNA = ["ACGTTGCAACGTAGCTAGCTNNACGTAGGCTAGCTAGCATCGACTAGCATCGATCG", "TTGACGATCGATCGGATCGATCGATTTAGCAGCGACGA"] * 20


def _model(folder: Path, vocab_size: int, pad_id: int, seed: int = 1) -> None:
    import torch
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, pad_token_id=pad_id)
    BertForMaskedLM(config).save_pretrained(folder)


def paper_bpe(folder: Path, seed: int = 1) -> list[str]:
    """The paper's BPE convention; returns the corpus lines it reads."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>"]
    tok = Tokenizer(models.BPE(unk_token="<UNK>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(TEXT, trainers.BpeTrainer(vocab_size=60, special_tokens=specials, show_progress=False))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<UNK>", pad_token="<PAD>", cls_token="<CLS>",
                                   sep_token="<SEP>", mask_token="<MASK>")
    fast.save_pretrained(folder)
    _model(folder, tok.get_vocab_size(), pad_id=1, seed=seed)
    return TEXT


def nt_vocab() -> list[str]:
    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=6)]
    return ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>", *kmers, "A", "T", "C", "G", "N"]


def nt_kmer(folder: Path, seed: int = 1) -> list[str]:
    """The Nucleotide Transformer's k-mer convention (vocab.txt, tokenizer_config.json)."""
    from transformers import EsmTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = nt_vocab()
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    EsmTokenizer(str(folder / "vocab.txt"), unk_token="<unk>", cls_token="<cls>", pad_token="<pad>",
                 mask_token="<mask>", eos_token="<eos>", bos_token="<bos>").save_pretrained(folder)
    _model(folder, len(vocab), pad_id=1, seed=seed)
    return DNA


def dnabert(folder: Path, seed: int = 1, k: int = 3) -> list[str]:
    """A DNABERT-style convention: BERT's special tokens, overlapping k-mers as words."""
    from transformers import BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *("".join(p) for p in itertools.product("ACGT", repeat=k))]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizer(str(folder / "vocab.txt"), do_lower_case=False).save_pretrained(folder)
    _model(folder, len(vocab), pad_id=0, seed=seed)
    return [" ".join(s[i : i + k] for i in range(len(s) - k + 1)) for s in DNA]


def dnabert_vocab_only(folder: Path, seed: int = 1) -> list[str]:
    """dnabert as DNABERT's own DNATokenizer saves it: vocab.txt and configs, no tokenizer.json."""
    lines = dnabert(folder, seed)
    (folder / "tokenizer.json").unlink(missing_ok=True)
    return lines


CONVENTIONS = {"paper_bpe": paper_bpe, "nt_kmer": nt_kmer, "dnabert": dnabert, "dnabert_vocab_only": dnabert_vocab_only}
