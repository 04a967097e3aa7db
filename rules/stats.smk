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
        masks="results/extract/{condition}/masks.npz",
        fisher_true=member_files(
            "results/extract/{condition}/seed{seed}/fisher_true.tsv"
        ),
        fisher_true_rows=member_files(
            "results/extract/{condition}/seed{seed}/fisher_true_rows.npz"
        ),
        layers=member_files("results/extract/{condition}/seed{seed}/layers.npy"),
        tokens=tokens_file("results/tokens/{condition}/train.npy"),
        tokenizer=tokens_file("results/tokenizers/{condition}.json"),
    output:
        **PLAN.table_outputs(),
        replicates="results/stats/{condition}/replicates.npz",
    log:
        "results/logs/stats/{condition}.log",
    conda:
        "../envs/stats.yaml"
    resources:
        mem_mb=per_condition(stats_resources, "mem_mb"),
    params:
        seeds=of_condition(PLAN.seeds),
        stats=settings("stats"),
    script:
        "../scripts/condition_stats.py"


rule summary:
    input:
        # one list per table, over the conditions in plan order (plan.by_condition regroups)
        **PLAN.stats_tables,
        replicates=PLAN.replicates,
        baselines=PLAN.baselines,
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
        conditions=list(PLAN.conditions),
        comparisons=PLAN.comparisons,
        stats=settings("stats"),
    script:
        "../scripts/summarize.py"
