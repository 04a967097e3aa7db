# Imported models (a condition's `imported:` Hugging Face folders, trained elsewhere):
# checked and copied in instead of trained, then analysed like the members trained here.


rule import_tokenizer:
    input:
        of_condition(PLAN.imported_folders),
    output:
        "results/tokenizers/{condition}.json",
    log:
        "results/logs/import_tokenizer/{condition}.log",
    wildcard_constraints:
        condition=alternatives(PLAN.imported),
    conda:
        "../envs/extract.yaml"
    script:
        "../scripts/import_tokenizer.py"


rule import_model:
    input:
        imported_folder,
    output:
        directory("results/models/{condition}/seed{seed}"),
    log:
        "results/logs/import_model/{condition}/seed{seed}.log",
    wildcard_constraints:
        condition=alternatives(PLAN.imported),
    conda:
        "../envs/extract.yaml"
    params:
        encode=settings("encode"),
    script:
        "../scripts/import_model.py"
