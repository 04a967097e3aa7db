"""Special tokens by role: this pipeline's ids stay 0..4; other conventions are read from their files."""

import json

import numpy as np
import pytest

from gfm_limits import special_tokens as st
from gfm_limits import tokenizer as tk
from gfm_limits.files import InputError
from hf_folders import nt_kmer, paper_bpe


def test_this_pipelines_tokenizers_keep_ids_0_to_4(tmp_path):
    (tmp_path / "c.txt").write_text("the cat sat on the mat\n" * 20)
    tk.train_bpe(tmp_path / "c.txt", tmp_path / "bpe.json", vocab_size=30)
    tk.build_kmer(tmp_path / "kmer.json", k=2)  # no added tokens: the specials are plain vocabulary entries
    for name in ("bpe.json", "kmer.json"):
        found = st.read(tmp_path / name)
        assert found.ids() == {"pad": 0, "unk": 1, "cls": 2, "sep": 3, "mask": 4}
        assert found.special == (0, 1, 2, 3, 4) and found.leading()
        index = found.ordinary_index()
        np.testing.assert_array_equal(index[5:], np.arange(found.vocab_size - 5))  # the old id - 5
    assert st.read(tmp_path / "kmer.json").vocab_size == 5 + 16 + 5


def test_the_papers_bpe_names_pad_1_and_unk_0(tmp_path):
    paper_bpe(tmp_path / "bpe")
    for found in (st.read_folder(tmp_path / "bpe"), st.read(tmp_path / "bpe/tokenizer.json")):
        assert found.ids() == {"pad": 1, "unk": 0, "cls": 2, "sep": 3, "mask": 4}


def test_the_nucleotide_transformer_has_no_sep_and_six_specials(tmp_path):
    nt_kmer(tmp_path / "nt")
    found = st.read_folder(tmp_path / "nt")
    assert found.ids() == {"pad": 1, "unk": 0, "cls": 3, "sep": 4, "mask": 2}  # <eos> plays sep
    assert found.special == (0, 1, 2, 3, 4, 5) and found.vocab_size == 4107  # <bos> is special too
    assert len(found.ordinary()) == 4101 and found.leading()  # ids 0..5, not the five roles 0..4


def test_roles_fall_back_to_eos_and_bos_and_missing_ones_are_named(tmp_path):
    data = {"model": {"vocab": {"<s>": 0, "</s>": 1, "<pad>": 2, "<unk>": 3, "<mask>": 4, "a": 5}},
            "added_tokens": [{"id": i, "content": c, "special": True}
                             for i, c in enumerate(["<s>", "</s>", "<pad>", "<unk>", "<mask>"])]}
    (tmp_path / "roberta.json").write_text(json.dumps(data))
    assert st.read(tmp_path / "roberta.json").ids() == {"pad": 2, "unk": 3, "cls": 0, "sep": 1, "mask": 4}
    data["added_tokens"] = data["added_tokens"][:3]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="no unk, mask token"):
        st.read(tmp_path / "short.json")


def test_a_config_role_wins_over_the_names(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<eos>", "AC"]) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps({"sep_token": {"content": "<eos>"}}))
    found = st.read_folder(folder)
    assert found.sep == 5 and found.special == (0, 1, 2, 3, 4, 5)
    (folder / "special_tokens_map.json").write_text(json.dumps({"mask_token": "[NOPE]"}))
    with pytest.raises(InputError, match="mask token '\\[NOPE\\]' is not in the vocabulary"):
        st.read_folder(folder)
