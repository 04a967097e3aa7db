"""The BERT masked-language model: HF BertForMaskedLM with the paper's defaults.

The paper uses BertConfig() defaults (12 layers, hidden 768, 12 heads, FFN
3072, 512 positions, dropout 0.1, tied input and output embeddings); the
sizes are config keys. `masked_logits` runs the MLM head only on the masked
positions, which gives the same logits as BertForMaskedLM.forward at those
positions while skipping the (T, V) projection everywhere else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelConfig:
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    dropout: float = 0.1
    max_position: int = 512


def bert_config(cfg: ModelConfig, vocab_size: int, pad_id: int):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        intermediate_size=cfg.intermediate_size,
        hidden_dropout_prob=cfg.dropout,
        attention_probs_dropout_prob=cfg.dropout,
        max_position_embeddings=cfg.max_position,
        pad_token_id=pad_id,
        tie_word_embeddings=True,
    )


def build_model(cfg: ModelConfig, vocab_size: int, pad_id: int, seed: int):
    """A freshly initialised BertForMaskedLM; `seed` alone decides the initial weights."""
    import torch
    from transformers import BertForMaskedLM

    torch.manual_seed(seed)
    return BertForMaskedLM(bert_config(cfg, vocab_size, pad_id))


def device():
    """The GPU when there is one, else the CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(path):
    from transformers import BertForMaskedLM

    return BertForMaskedLM.from_pretrained(str(path))


def masked_logits(model, input_ids, selected):
    """MLM logits at the selected positions only.

    input_ids: (B, T) long; selected: (B, T) bool -> (M, V) with M = selected.sum().
    """
    hidden = model.bert(input_ids=input_ids).last_hidden_state  # (B, T, H)
    return model.cls(hidden[selected])  # (M, V)


def describe(cfg: ModelConfig) -> dict:
    return asdict(cfg)
