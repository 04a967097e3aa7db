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
        fisher_rows=member_files(
            "results/extract/{condition}/seed{seed}/fisher_rows.npz"
        ),
        tokens=tokens_file("results/tokens/{condition}/train.npy"),
    output:
        **stats_tables(),
        replicates="results/stats/{condition}/replicates.npz",
    log:
        "results/logs/stats/{condition}.log",
    conda:
        "../envs/stats.yaml"
    resources:
        mem_mb=per_condition(stats_resources, "mem_mb"),
    params:
        seeds=seeds_of,
        stats=config["stats"],
    script:
        "../scripts/condition_stats.py"


rule summary:
    input:
        expand(
            "results/stats/{condition}/{table}.tsv", condition=CONDITIONS, table=TABLES
        ),
        expand("results/stats/{condition}/replicates.npz", condition=CONDITIONS),
        baselines=BASELINES,
    output:
        summary=report(
            "results/stats/summary.tsv",
            caption="../report/summary.rst",
            category="Summary",
        ),
        findings=report(
            "results/stats/findings.tsv",
            caption="../report/findings.rst",
            category="Summary",
        ),
    log:
        "results/logs/stats/summary.log",
    conda:
        "../envs/stats.yaml"
    params:
        conditions=CONDITIONS,
        dirs=expand("results/stats/{condition}", condition=CONDITIONS),
        comparisons=comparisons(config),
        stats=config["stats"],
    script:
        "../scripts/summarize.py"
