rule tokenizer:
    input:
        of_condition(PLAN.tokenizer_corpus),
    output:
        "results/tokenizers/{condition}.json",
    log:
        "results/logs/tokenizer/{condition}.log",
    wildcard_constraints:
        condition=alternatives(PLAN.tokenizers_trained),
    conda:
        "../envs/tokenize.yaml"
    resources:
        mem_mb=input_mem_mb(10),
    params:
        kind=of_condition(PLAN.tokenizer_kind),
        tokenizer=tokenizer_settings,
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
        condition=alternatives(PLAN.tokenized),
    conda:
        "../envs/tokenize.yaml"
    resources:
        mem_mb=input_mem_mb(8),
    params:
        encode=settings("encode"),
    script:
        "../scripts/encode_corpus.py"


rule encode_repeats:
    input:
        corpus=source_file("results/corpus/{source}/eval.txt"),
        repeats=source_file("results/corpus/{source}/eval.repeats.txt"),
        tokenizer="results/tokenizers/{condition}.json",
    output:
        "results/tokens/{condition}/eval.repeats.npy",
    log:
        "results/logs/encode_repeats/{condition}.log",
    wildcard_constraints:
        condition=alternatives(PLAN.tokenized),
    conda:
        "../envs/tokenize.yaml"
    resources:
        mem_mb=input_mem_mb(8),
    params:
        encode=settings("encode"),
    script:
        "../scripts/encode_repeats.py"
