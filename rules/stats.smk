rule stats:
    input:
        predictions=member_files(
            "results/extract/{condition}/seed{seed}/predictions.npz"
        ),
        embeddings=member_files("results/extract/{condition}/seed{seed}/embeddings.npy"),
        fisher=member_files("results/extract/{condition}/seed{seed}/fisher.tsv"),
        fisher_per_example=member_files(
            "results/extract/{condition}/seed{seed}/fisher_per_example.tsv"
        ),
        tokens="results/tokens/{condition}/train.npy",
    output:
        **stats_tables(),
    log:
        "results/logs/stats/{condition}.log",
    conda:
        "../envs/stats.yaml"
    resources:
        mem_mb=per_condition(stats_resources, "mem_mb"),
    params:
        seeds=SEEDS,
        stats=config["stats"],
    script:
        "../scripts/condition_stats.py"


rule summary:
    input:
        expand(
            "results/stats/{condition}/{table}.tsv", condition=CONDITIONS, table=TABLES
        ),
    output:
        report(
            "results/stats/summary.tsv",
            caption="../report/summary.rst",
            category="Summary",
        ),
    log:
        "results/logs/stats/summary.log",
    conda:
        "../envs/stats.yaml"
    params:
        conditions=CONDITIONS,
        dirs=expand("results/stats/{condition}", condition=CONDITIONS),
        k=config["stats"]["summary_k"],
        top_p=config["stats"]["summary_top_p"],
    script:
        "../scripts/summarize.py"
