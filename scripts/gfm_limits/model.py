"""The BERT masked-language model, written for speed and saved as HF BertForMaskedLM.

The paper uses BertConfig() defaults (12 layers, hidden 768, 12 heads, FFN
3072, 512 positions, dropout 0.1, tied input and output embeddings); the
sizes are config keys. `Bert` computes exactly what HF BertForMaskedLM
computes (post-LayerNorm encoder, erf GELU, LayerNorm eps 1e-12, the MLM
transform and a decoder tied to the word embedding), with three changes that
only affect speed: query, key and value are one fused projection; attention
is torch's scaled_dot_product_attention (flash attention on a GPU, dropout
included); and the MLM head runs only on the masked positions, whose flat
indices the caller passes, so the (B*T, V) projection is never formed.

`Bert.stream_dtype` (None by default) is a fourth, which changes the rounding: set
to torch.bfloat16, under bf16 autocast each LayerNorm's output, the residual stream
between layers, is stored in bf16 instead of the fp32 autocast gives LayerNorm, so
the memory-bound kernels around the matrix products (dropout, residual add,
LayerNorm, casts) move half the bytes. Each LayerNorm still computes in fp32, and
without autocast the setting does nothing.

Weights convert both ways with HF names (`to_hf_state_dict`, `from_hf`), so a
member is initialised by HF's own `_init_weights` from its seed and saved as
a model folder that `BertForMaskedLM.from_pretrained` loads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

LAYER_NORM_EPS = 1e-12  # HF BertConfig default


@dataclass(frozen=True)
class ModelConfig:
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    dropout: float = 0.1
    max_position: int = 512
    tie_embeddings: bool = True  # False: the decoder is its own (V, H) matrix (HF tie_word_embeddings)
    initializer_range: float = 0.02  # std of the normal initialisation (HF initializer_range; BERT's 0.02)


class Layer(nn.Module):
    """One post-LN transformer encoder layer (HF BertLayer) with fused QKV."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        h = cfg.hidden_size
        self.n_heads, self.p = cfg.num_heads, cfg.dropout
        self.qkv = nn.Linear(h, 3 * h)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=LAYER_NORM_EPS)
        self.ffn_in = nn.Linear(h, cfg.intermediate_size)
        self.ffn_out = nn.Linear(cfg.intermediate_size, h)
        self.ffn_norm = nn.LayerNorm(h, eps=LAYER_NORM_EPS)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, stream_dtype=None):  # (B, T, H)
        b, t, h = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, h // self.n_heads).permute(2, 0, 3, 1, 4)  # 3 x (B, nh, T, d)
        a = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0)
        a = a.transpose(1, 2).reshape(b, t, h)  # (B, T, H)
        x = stream(self.attn_norm(x + self.drop(self.attn_out(a))), stream_dtype)
        return stream(self.ffn_norm(x + self.drop(self.ffn_out(F.gelu(self.ffn_in(x))))), stream_dtype)


def stream(x, dtype):
    """The residual stream in `dtype` under autocast; as LayerNorm returns it (fp32) when `dtype`
    is None or autocast is off (the same model then runs in fp32, as extraction does)."""
    return x if dtype is None or not torch.is_autocast_enabled(x.device.type) else x.to(dtype)


class Bert(nn.Module):
    """BERT encoder and MLM head; `forward` returns logits or the loss at chosen positions."""

    def __init__(self, cfg: ModelConfig, vocab_size: int):
        super().__init__()
        h = cfg.hidden_size
        self.cfg, self.vocab_size = cfg, vocab_size
        self.word = nn.Embedding(vocab_size, h)
        self.position = nn.Embedding(cfg.max_position, h)
        self.token_type = nn.Embedding(2, h)  # HF keeps two; every row here is type 0
        self.embed_norm = nn.LayerNorm(h, eps=LAYER_NORM_EPS)
        self.drop = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.num_layers))
        self.head_dense = nn.Linear(h, h)
        self.head_norm = nn.LayerNorm(h, eps=LAYER_NORM_EPS)
        self.head_bias = nn.Parameter(torch.zeros(vocab_size))
        # the decoder weight is `word.weight` when tied, else its own matrix
        self.head_decoder = None if cfg.tie_embeddings else nn.Parameter(torch.empty(vocab_size, h))
        self.stream_dtype = None  # torch.bfloat16: the residual stream in bf16 (under bf16 autocast only)

    def encode(self, input_ids):  # (B, T) long -> (B, T, H)
        t = input_ids.shape[1]
        x = self.word(input_ids) + self.position.weight[:t] + self.token_type.weight[0]
        x = self.drop(stream(self.embed_norm(x), self.stream_dtype))
        for layer in self.layers:
            x = layer(x, self.stream_dtype)
        return x

    def logits_at(self, hidden, index, decoder=None):  # (B, T, H), (K,) flat positions -> (K, V)
        """`decoder` (V, H) replaces the tied word embedding in the output projection only
        (to tell apart the two uses of the tied matrix); default: the model's decoder."""
        return self.head(hidden.flatten(0, 1)[index], decoder)

    def head(self, x, decoder=None):  # (K, H) final hidden states -> (K, V)
        """The MLM head: transform, LayerNorm and the output projection."""
        x = self.head_norm(F.gelu(self.head_dense(x)))
        return F.linear(x, self.decoder_weight if decoder is None else decoder, self.head_bias)

    @property
    def decoder_weight(self):  # (V, H): the word embedding when tied
        return self.word.weight if self.head_decoder is None else self.head_decoder

    def forward(self, input_ids, index, targets=None, normaliser=None, decoder=None):
        """Logits (K, V) at the flat positions `index`; with `targets` (K,), -100 to skip,
        the summed cross-entropy divided by `normaliser` (default: the number of targets)."""
        logits = self.logits_at(self.encode(input_ids), index, decoder)
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.float(), targets, ignore_index=-100, reduction="sum")
        if normaliser is None:
            normaliser = (targets != -100).sum()
        return loss / normaliser


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
        tie_word_embeddings=cfg.tie_embeddings,
        initializer_range=cfg.initializer_range,
    )


def build_hf_model(cfg: ModelConfig, vocab_size: int, pad_id: int, seed: int):
    """A freshly initialised HF BertForMaskedLM; `seed` alone decides the initial weights."""
    from transformers import BertForMaskedLM

    torch.manual_seed(seed)
    return BertForMaskedLM(bert_config(cfg, vocab_size, pad_id))


def build_model(cfg: ModelConfig, vocab_size: int, pad_id: int, seed: int) -> Bert:
    """A freshly initialised `Bert`, with exactly the weights HF initialises from `seed`."""
    return from_hf(build_hf_model(cfg, vocab_size, pad_id, seed))


# HF parameter name of each of ours, per layer and outside the layers; qkv is split.
_LAYER_NAMES = {
    "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
    "ffn_in": "intermediate.dense", "ffn_out": "output.dense", "ffn_norm": "output.LayerNorm",
}
_TOP_NAMES = {
    "word.weight": "bert.embeddings.word_embeddings.weight",
    "position.weight": "bert.embeddings.position_embeddings.weight",
    "token_type.weight": "bert.embeddings.token_type_embeddings.weight",
    "embed_norm.weight": "bert.embeddings.LayerNorm.weight", "embed_norm.bias": "bert.embeddings.LayerNorm.bias",
    "head_dense.weight": "cls.predictions.transform.dense.weight",
    "head_dense.bias": "cls.predictions.transform.dense.bias",
    "head_norm.weight": "cls.predictions.transform.LayerNorm.weight",
    "head_norm.bias": "cls.predictions.transform.LayerNorm.bias",
    "head_bias": "cls.predictions.bias",
}


def to_hf_state_dict(model: Bert) -> dict:
    """Our weights under HF BertForMaskedLM names (the tied decoder included)."""
    ours = {k: v.detach() for k, v in model.state_dict().items()}
    out = {hf: ours[name] for name, hf in _TOP_NAMES.items()}
    out["cls.predictions.decoder.weight"] = ours["word.weight" if model.head_decoder is None else "head_decoder"]
    out["cls.predictions.decoder.bias"] = ours["head_bias"]
    for i in range(len(model.layers)):
        prefix = f"bert.encoder.layer.{i}."
        for part in ("weight", "bias"):
            for name, chunk in zip(("query", "key", "value"), ours[f"layers.{i}.qkv.{part}"].chunk(3)):
                out[f"{prefix}attention.self.{name}.{part}"] = chunk
            for ours_name, hf in _LAYER_NAMES.items():
                out[f"{prefix}{hf}.{part}"] = ours[f"layers.{i}.{ours_name}.{part}"]
    return out


def config_of(hf_config) -> ModelConfig:
    return ModelConfig(hidden_size=hf_config.hidden_size, num_layers=hf_config.num_hidden_layers,
                       num_heads=hf_config.num_attention_heads, intermediate_size=hf_config.intermediate_size,
                       dropout=hf_config.hidden_dropout_prob, max_position=hf_config.max_position_embeddings,
                       tie_embeddings=hf_config.tie_word_embeddings,
                       initializer_range=hf_config.initializer_range)


def from_hf(hf_model) -> Bert:
    """Our `Bert` holding an HF BertForMaskedLM's weights (on the CPU, fp32)."""
    model = Bert(config_of(hf_model.config), hf_model.config.vocab_size)
    hf = hf_model.state_dict()
    ours = {name: hf[hf_name] for name, hf_name in _TOP_NAMES.items()}
    # the bias HF's forward adds: transformers 5 unties it from cls.predictions.bias (then unused)
    # when the decoder is untied; in a tied model, and in transformers 4, they are one tensor
    ours["head_bias"] = hf["cls.predictions.decoder.bias"]
    if model.head_decoder is not None:
        ours["head_decoder"] = hf["cls.predictions.decoder.weight"]
    for i in range(len(model.layers)):
        prefix = f"bert.encoder.layer.{i}."
        for part in ("weight", "bias"):
            ours[f"layers.{i}.qkv.{part}"] = torch.cat(
                [hf[f"{prefix}attention.self.{name}.{part}"] for name in ("query", "key", "value")])
            for ours_name, hf_name in _LAYER_NAMES.items():
                ours[f"layers.{i}.{ours_name}.{part}"] = hf[f"{prefix}{hf_name}.{part}"]
    model.load_state_dict({k: v.float().cpu() for k, v in ours.items()})
    return model


def save_pretrained(model: Bert, pad_id: int, out_dir) -> None:
    """Write `model` as an HF BertForMaskedLM model folder."""
    from transformers import BertForMaskedLM

    hf = BertForMaskedLM(bert_config(model.cfg, model.vocab_size, pad_id))
    missing, unexpected = hf.load_state_dict({k: v.float().cpu() for k, v in to_hf_state_dict(model).items()},
                                             strict=False)
    if unexpected or any(not name.endswith(("position_ids", "token_type_ids")) for name in missing):
        raise RuntimeError(f"weight conversion to HF failed: missing {missing}, unexpected {unexpected}")
    hf.save_pretrained(str(out_dir))


def load_model(path) -> Bert:
    """Our `Bert` from an HF BertForMaskedLM model folder."""
    from transformers import BertForMaskedLM

    return from_hf(BertForMaskedLM.from_pretrained(str(path)))


def device():
    """The GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def flat_index(selected):
    """Flat indices (M,) of the True entries of a (B, T) mask (synchronises a GPU)."""
    return selected.flatten().nonzero().squeeze(1)


def autocast(device, precision: str = "bf16"):
    """bf16 autocast on a GPU when `precision` is bf16; a no-op on a CPU or for fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda" and precision == "bf16")


def masked_hidden(model: Bert, input_ids, selected, precision: str = "fp32"):
    """Final hidden states (contextual embeddings) at the selected positions: input_ids (B, T),
    selected (B, T) bool -> (M, H) fp32. With precision bf16 the encoder runs under bf16
    autocast on a GPU."""
    with autocast(input_ids.device, precision):
        hidden = model.encode(input_ids)  # (B, T, H)
    return hidden.float().flatten(0, 1)[flat_index(selected)]


def masked_logits(model: Bert, input_ids, selected, precision: str = "fp32"):
    """MLM logits at the selected positions: input_ids (B, T), selected (B, T) bool -> (M, V) fp32.

    With precision bf16 the encoder runs under bf16 autocast on a GPU; the head
    and the logits stay in fp32, where near-uniform distributions need the digits.
    """
    return model.head(masked_hidden(model, input_ids, selected, precision))


def flops_per_token(cfg: ModelConfig, vocab_size: int, seq_len: int, mask_prob: float) -> float:
    """Model FLOPs of one training token (forward and backward, 2 + 4 per multiply-add):
    6 x encoder matmul weights + 12 x layers x T x H for attention scores and values
    + 6 x mask_prob x the MLM head's matmul weights (it runs on masked positions only)."""
    h, layers = cfg.hidden_size, cfg.num_layers
    encoder = layers * (4 * h * h + 2 * h * cfg.intermediate_size)
    head = h * h + h * vocab_size
    return 6 * encoder + 12 * layers * seq_len * h + 6 * mask_prob * head

