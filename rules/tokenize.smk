rule tokenizer:
    input:
        tokenizer_corpus,
    output:
        "results/tokenizers/{condition}.json",
    params:
        tokenizer=tokenizer_params,
    log:
        "results/logs/tokenizer/{condition}.log",
    conda:
        "../envs/tokenize.yaml"
    script:
        "../scripts/train_tokenizer.py"


rule encode:
    input:
        corpus=split_corpus,
        tokenizer="results/tokenizers/{condition}.json",
    output:
        "results/tokens/{condition}/{split}.npy",
    params:
        seq_len=config["encode"]["seq_len"],
    log:
        "results/logs/encode/{condition}/{split}.log",
    conda:
        "../envs/tokenize.yaml"
    script:
        "../scripts/encode_corpus.py"
