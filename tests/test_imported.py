"""Imported models (trained elsewhere): what a folder must hold, and clear errors when it does not."""

import json

import pytest

from gfm_limits import tokenizer as tk
from gfm_limits.files import InputError
from gfm_limits.imported import check_tokenizer, import_member, import_tokenizer
from gfm_limits.model import ModelConfig, build_model, save_pretrained

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


def test_tokenizers_must_put_the_special_tokens_first_and_agree(folder, tmp_path):
    data = json.loads((folder / "tokenizer.json").read_text())
    vocab = data["model"]["vocab"]
    vocab["[MASK]"], vocab["AA"] = vocab["AA"], vocab["[MASK]"]
    for added in data["added_tokens"]:
        if added["content"] == "[MASK]":
            added["id"] = vocab["[MASK]"]
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(data))
    with pytest.raises(InputError, match="ids 0..4"):
        check_tokenizer(moved)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(InputError, match="not a Hugging Face tokenizers JSON"):
        check_tokenizer(tmp_path / "junk.json")
    other = tmp_path / "other"
    other.mkdir()
    tk.build_kmer(other / "tokenizer.json", k=3)
    with pytest.raises(InputError, match="share one tokenizer"):
        import_tokenizer([str(folder), str(other)], tmp_path / "tok.json")
