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
        gradient_geometry=member_files(
            "results/extract/{condition}/seed{seed}/gradient_geometry.npz"
        ),
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


rule rc_symmetry:
    input:
        consistency=member_files(
            "results/extract/{condition}/seed{seed}/rc_consistency.npz"
        ),
        embeddings=member_files("results/extract/{condition}/seed{seed}/embeddings.npy"),
        tokenizer=tokens_file("results/tokenizers/{condition}.json"),
    output:
        "results/stats/{condition}/rc_symmetry.tsv",
    log:
        "results/logs/rc_symmetry/{condition}.log",
    wildcard_constraints:
        condition=alternatives(PLAN.rc_conditions),
    conda:
        "../envs/stats.yaml"
    params:
        seeds=of_condition(PLAN.seeds),
        k=kmer_k,
        stats=settings("stats", "bootstrap", "confidence"),
    script:
        "../scripts/rc_symmetry.py"


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
            **report_item("summary"),
        ),
        findings=report(
            "results/stats/findings.tsv",
            caption="../report/findings_table.rst",
            **report_item("findings_table"),
        ),
    log:
        "results/logs/stats/summary.log",
    conda:
        "../envs/stats.yaml"
    params:
        conditions=list(PLAN.conditions),
        comparisons=PLAN.comparisons,
        stats=settings("stats"),
        facts=FACTS,
    script:
        "../scripts/summarize.py"


rule scorecard:
    input:
        findings=rules.summary.output.findings,
        summary=rules.summary.output.summary,
    output:
        table=report(
            "results/stats/scorecard.tsv",
            caption="../report/scorecard.rst",
            **report_item("scorecard"),
        ),
        html=report(
            "results/scorecard.html",
            caption="../report/scorecard_html.rst",
            **report_item("scorecard_html"),
        ),
    log:
        "results/logs/stats/scorecard.log",
    conda:
        "../envs/stats.yaml"
    params:
        facts=FACTS,
    script:
        "../scripts/write_scorecard.py"
