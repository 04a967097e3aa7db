rule import_tokenizer:
    input:
        checkpoint_folders,
    output:
        "results/tokenizers/{condition}.json",
    log:
        "results/logs/import_tokenizer/{condition}.log",
    wildcard_constraints:
        condition=_names(IMPORTED),
    conda:
        "../envs/extract.yaml"
    script:
        "../scripts/import_tokenizer.py"


rule import_model:
    input:
        checkpoint_folder,
    output:
        directory("results/models/{condition}/seed{seed}"),
    log:
        "results/logs/import_model/{condition}/seed{seed}.log",
    wildcard_constraints:
        condition=_names(IMPORTED),
    conda:
        "../envs/extract.yaml"
    params:
        seq_len=config["encode"]["seq_len"],
    script:
        "../scripts/import_model.py"
