rule char_baselines:
    input:
        train="results/corpus/{source}/train.txt",
        eval="results/corpus/{source}/eval.txt",
    output:
        "results/baselines/chars/{source}.tsv",
    log:
        "results/logs/baselines/chars/{source}.log",
    benchmark:
        "results/benchmarks/baselines/chars/{source}.tsv"
    conda:
        "../envs/stats.yaml"
    resources:
        mem_mb=baselines_mem_mb,
    params:
        baselines=settings("baselines"),
    script:
        "../scripts/char_baselines.py"


rule baselines:
    input:
        train=tokens_file("results/tokens/{condition}/train.npy"),
        eval=tokens_file("results/tokens/{condition}/eval.npy"),
        eval_stats=tokens_file("results/tokens/{condition}/eval.json"),
        eval_text=source_file("results/corpus/{source}/eval.txt"),
        tokenizer=tokens_file("results/tokenizers/{condition}.json"),
        chars=source_file("results/baselines/chars/{source}.tsv"),
    output:
        report(
            "results/baselines/tokens/{condition}.tsv",
            caption="../report/baselines_table.rst",
            category=report_item("baselines_table")["category"],
            subcategory=report_item("baselines_table")["subcategory"],
            labels={"item": "Baselines of {condition}"},
        ),
    log:
        "results/logs/baselines/tokens/{condition}.log",
    benchmark:
        "results/benchmarks/baselines/tokens/{condition}.tsv"
    wildcard_constraints:
        condition=alternatives(PLAN.tokenized),
    conda:
        "../envs/stats.yaml"
    resources:
        mem_mb=baselines_mem_mb,
    params:
        baselines=settings("baselines"),
    script:
        "../scripts/token_baselines.py"
