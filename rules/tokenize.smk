rule tokenizer:
    input:
        tokenizer_corpus,
    output:
        "results/tokenizers/{condition}.json",
    log:
        "results/logs/tokenizer/{condition}.log",
    wildcard_constraints:
        condition=_names(TOKENIZERS_TRAINED),
    conda:
        "../envs/tokenize.yaml"
    resources:
        mem_mb=input_mem_mb(10),
    params:
        tokenizer=tokenizer_params,
    script:
        "../scripts/train_tokenizer.py"


rule encode:
    input:
        corpus=split_corpus,
        tokenizer="results/tokenizers/{condition}.json",
    output:
        rows="results/tokens/{condition}/{split}.npy",
        stats="results/tokens/{condition}/{split}.json",
    log:
        "results/logs/encode/{condition}/{split}.log",
    wildcard_constraints:
        condition=_names(TOKENIZED),
    conda:
        "../envs/tokenize.yaml"
    resources:
        mem_mb=input_mem_mb(8),
    params:
        seq_len=config["encode"]["seq_len"],
    script:
        "../scripts/encode_corpus.py"
