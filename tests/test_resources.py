"""Cluster resources: the parameter count of the BERT shapes against Hugging Face's own model."""

from dataclasses import asdict, replace

import pytest
import torch
from transformers import BertForMaskedLM

from gfm_limits import tokenizer as tk
from gfm_limits.model import ModelConfig, bert_config, build_model
from gfm_limits.resources import bert_parameters, train_resources, vocab_size

SMALL = ModelConfig(hidden_size=24, num_layers=2, num_heads=3, intermediate_size=40, max_position=20)
VOCAB = 37


def used_parameters(hf, vocab: int) -> int:
    """Entries of the HF parameters that one masked-LM backward reaches (transformers 5 keeps an
    untied model's cls.predictions.bias beside the decoder's own bias, and never uses it)."""
    ids = torch.arange(12).remainder(vocab)[None]  # (1, 12)
    hf(input_ids=ids, labels=ids).loss.backward()
    return sum(p.numel() for p in hf.parameters() if p.grad is not None)


@pytest.mark.parametrize("cfg", [SMALL, replace(SMALL, tie_embeddings=False), replace(SMALL, num_layers=0)],
                         ids=["tied", "untied", "no_layers"])
def test_bert_parameters_count_what_hf_bert_for_masked_lm_holds(cfg):
    torch.manual_seed(0)
    hf = BertForMaskedLM(bert_config(cfg, VOCAB, 0))
    n = bert_parameters(asdict(cfg), VOCAB)
    assert n == used_parameters(hf, VOCAB)
    assert n == sum(p.numel() for p in build_model(cfg, VOCAB, 0, seed=1).parameters())
    if cfg.tie_embeddings:  # no HF parameter left out
        assert n == sum(p.numel() for p in hf.parameters())


def test_bert_parameters_of_the_paper_model():
    """BertConfig() sizes with a 4096-token vocabulary, as the paper's models (built on the meta
    device: shapes only, no memory)."""
    cfg = ModelConfig()
    with torch.device("meta"):
        hf = BertForMaskedLM(bert_config(cfg, 4096, 0))
    assert bert_parameters(asdict(cfg), 4096) == sum(p.numel() for p in hf.parameters())


def test_kmer_vocabulary_is_known_before_the_tokenizer_is_built(tmp_path):
    config = {"conditions": {"dna_kmer": {"source": "dna", "tokenizer": "kmer"}}, "tokenizer": {"kmer_k": 3}}
    assert vocab_size(config, "dna_kmer") == tk.build_kmer(tmp_path / "kmer.json", k=3).get_vocab_size()


def test_a_condition_asks_for_what_its_own_model_needs():
    """The condition's `model` changes reach its resources: no layers asks for less, an untied
    decoder for more memory than the tied default."""
    conditions = {"tied": {}, "bare": {"model": {"num_layers": 0}}, "untied": {"model": {"tie_embeddings": False}}}
    config = {"conditions": {name: {"source": "dna", "tokenizer": "bpe", **c} for name, c in conditions.items()},
              "model": asdict(ModelConfig(hidden_size=256, num_layers=4, num_heads=4, intermediate_size=1024)),
              "tokenizer": {"bpe_vocab_size": 30_000}, "train": {"tokens": 10**12},
              "encode": {"seq_len": 20}}
    found = {name: train_resources(config, name) for name in conditions}
    assert found["bare"]["runtime"] < found["tied"]["runtime"] and found["bare"]["mem_mb"] < found["tied"]["mem_mb"]
    assert found["untied"]["mem_mb"] > found["tied"]["mem_mb"]
