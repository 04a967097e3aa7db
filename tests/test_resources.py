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



def test_layer_states_are_sized_as_extract_writes_them(tmp_path):
    """layers.npy of a real (tiny) member, written by extract.extract_member, against
    layer_states_bytes; the true Fisher's labels add three passes each."""
    import numpy as np

    from gfm_limits.extract import extract_member
    from gfm_limits.model import save_pretrained
    from gfm_limits.predictions import make_eval_masks
    from gfm_limits.resources import extract_passes, layer_states_bytes

    member = tmp_path / "member"
    save_pretrained(build_model(SMALL, 26, 0, seed=0), 0, member)
    tk.build_kmer(member / "tokenizer.json", k=2)  # 26 tokens
    rows = np.random.default_rng(0).integers(5, 26, size=(9, 10)).astype(np.uint16)
    np.save(tmp_path / "tokens.npy", rows)
    make_eval_masks(tmp_path / "tokens.npy", member / "tokenizer.json", tmp_path / "masks.npz", n_sequences=8,
                    mask_fraction=0.3, fisher_mask_fraction=0.3, mask_seed=1)
    out = {name: tmp_path / name for name in ("p.npz", "e.npy", "f.tsv", "layers.npy")}
    extract_member(member, tmp_path / "masks.npz", batch_size=4, predictions_out=out["p.npz"],
                   embeddings_out=out["e.npy"], fisher_out=out["f.tsv"], layers_out=out["layers.npy"], n_hidden=5)
    config = {"conditions": {"c": {"source": "dna", "tokenizer": "kmer"}}, "model": asdict(SMALL),
              "extract": {"n_sequences": 8, "mask_fraction": 0.3, "contextual_positions": 5}, "encode": {"seq_len": 10}}
    assert np.load(out["layers.npy"]).nbytes == layer_states_bytes(config, "c")
    assert extract_passes({"extract": {"fisher_true_samples": 2}}) == extract_passes({"extract": {}}) + 3
