"""Imported models (trained elsewhere): what a folder must hold, and clear errors when it does not."""

import json

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertForMaskedLM

from gfm_limits import tokenizer as tk
from gfm_limits.extract import extract_member
from gfm_limits.files import InputError
from gfm_limits.imported import check_tokenizer, import_member, import_tokenizer
from gfm_limits.model import ModelConfig, build_model, save_pretrained
from gfm_limits.predictions import make_eval_masks
from hf_folders import CONVENTIONS

TINY = ModelConfig(hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_position=32)


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "member"
    tk.build_kmer(tmp_path / "kmer.json", k=2)
    save_pretrained(build_model(TINY, 26, 0, seed=1), 0, out)
    (out / "tokenizer.json").write_bytes((tmp_path / "kmer.json").read_bytes())
    return out


def test_an_imported_model_folder_keeps_its_origin(folder, tmp_path):
    import_member(folder, tmp_path / "out", seq_len=32)
    record = json.loads((tmp_path / "out/training.json").read_text())
    assert record["imported_from"] == str(folder.resolve()) and "model.safetensors" in record["files"]
    assert (tmp_path / "out/tokenizer.json").read_bytes() == (folder / "tokenizer.json").read_bytes()


def test_what_is_wrong_with_a_folder_is_named(folder, tmp_path):
    with pytest.raises(InputError, match="max_position_embeddings 32 is below encode.seq_len 64"):
        import_member(folder, tmp_path / "out", seq_len=64)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(InputError, match="no tokenizer.json"):
        import_member(folder, tmp_path / "out", seq_len=32)
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(InputError, match="model_type 'gpt2'"):
        import_member(folder, tmp_path / "out", seq_len=32)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_special_tokens_are_found_by_role_and_the_tokenizers_must_agree(folder, tmp_path):
    data = json.loads((folder / "tokenizer.json").read_text())
    vocab = data["model"]["vocab"]
    vocab["[MASK]"], vocab["AA"] = vocab["AA"], vocab["[MASK]"]  # [MASK] moved to id 5
    (folder / "tokenizer.json").write_text(json.dumps(data))
    assert check_tokenizer(folder).ids() == {"pad": 0, "unk": 1, "cls": 2, "sep": 3, "mask": 5}
    del vocab["[MASK]"]
    (folder / "tokenizer.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="no mask token"):
        check_tokenizer(folder)
    (folder / "tokenizer.json").write_text("{not json")
    with pytest.raises(InputError, match="not a"):
        check_tokenizer(folder)
    tk.build_kmer(folder / "tokenizer.json", k=2)
    other = tmp_path / "other"
    other.mkdir()
    tk.build_kmer(other / "tokenizer.json", k=3)
    with pytest.raises(InputError, match="share one tokenizer"):
        import_tokenizer([str(folder), str(other)], tmp_path / "tok.json")


def test_a_config_that_contradicts_the_token_names_is_refused(folder):
    (folder / "special_tokens_map.json").write_text(json.dumps({"sep_token": "[CLS]", "cls_token": "[SEP]"}))
    with pytest.raises(InputError, match="their names in the tokenizer say"):
        check_tokenizer(folder)


@pytest.fixture(params=sorted(CONVENTIONS))
def convention(request, tmp_path):
    """A folder saved as another project saves it, and the corpus lines its tokenizer reads."""
    folder = tmp_path / request.param
    lines = CONVENTIONS[request.param](folder)
    return request.param, folder, lines


def test_models_trained_elsewhere_read_like_hugging_face_reads_them(convention, tmp_path):
    """Import, encode, mask and extract a folder of each convention; the rows, the masked positions
    and the predictive distributions against transformers' own tokenizer and forward pass."""
    name, folder, lines = convention
    hf_tok = AutoTokenizer.from_pretrained(folder)
    import_tokenizer([str(folder)], tmp_path / "tok.json")
    import_member(folder, tmp_path / "member", seq_len=24)
    (tmp_path / "corpus.txt").write_text("\n".join(lines) + "\n")
    rows = tk.encode_corpus(tmp_path / "corpus.txt", tmp_path / "tok.json", tmp_path / "eval.npy", seq_len=24)
    sep = hf_tok.sep_token_id if hf_tok.sep_token_id is not None else hf_tok.eos_token_id  # NT: <eos>
    assert (rows[:, 0] == hf_tok.cls_token_id).all() and (rows[:, -1] == sep).all()
    stream = np.concatenate([[*hf_tok(line, add_special_tokens=False)["input_ids"], sep] for line in lines])
    np.testing.assert_array_equal(rows[:, 1:-1].ravel(), stream[: rows[:, 1:-1].size])  # HF's own tokens

    make_eval_masks(tmp_path / "eval.npy", tmp_path / "tok.json", tmp_path / "masks.npz", n_sequences=6,
                    mask_fraction=0.25, fisher_mask_fraction=0.2, mask_seed=0)
    masks = dict(np.load(tmp_path / "masks.npz"))
    assert not np.isin(masks["rows"][masks["predict"]], hf_tok.all_special_ids).any()
    out = {n: tmp_path / n for n in ("p.npz", "e.npy", "f.tsv")}
    extract_member(tmp_path / "member", tmp_path / "masks.npz", batch_size=4, predictions_out=out["p.npz"],
                   embeddings_out=out["e.npy"], fisher_out=out["f.tsv"], precision="fp32")

    hf = BertForMaskedLM.from_pretrained(folder).eval()
    ids, sel = torch.from_numpy(masks["rows"].astype(np.int64)), torch.from_numpy(masks["predict"])
    with torch.no_grad():
        logits = hf(input_ids=torch.where(sel, hf_tok.mask_token_id, ids)).logits  # (N, T, V)
    found = np.load(out["p.npz"])
    np.testing.assert_allclose(found["probs"], torch.softmax(logits[sel], -1).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(found["targets"], ids[sel].numpy())
    record = json.loads((tmp_path / "member/training.json").read_text())
    assert record["special_tokens"] == {"pad": hf_tok.pad_token_id, "unk": hf_tok.unk_token_id,
                                        "cls": hf_tok.cls_token_id, "sep": sep, "mask": hf_tok.mask_token_id}
    assert (folder / "tokenizer.json").is_file() == (name in ("paper_bpe", "dnabert"))  # else rebuilt from vocab.txt
    if name == "nt_kmer":
        assert hf.config.vocab_size == 4107 and hf_tok.sep_token_id is None


def test_a_corpus_the_tokenizer_does_not_read_is_warned_about(tmp_path, caplog):
    """DNABERT-style tokenizers read overlapping k-mers separated by spaces, not raw sequence."""
    CONVENTIONS["dnabert"](tmp_path / "dnabert")
    import_tokenizer([str(tmp_path / "dnabert")], tmp_path / "tok.json")
    (tmp_path / "raw.txt").write_text("ACGTACGTTGCA ACGGTCA\n" * 50)
    with caplog.at_level("WARNING"):
        tk.encode_corpus(tmp_path / "raw.txt", tmp_path / "tok.json", tmp_path / "raw.npy", seq_len=24)
    assert "of the tokens are unknown" in caplog.text

