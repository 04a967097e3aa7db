# The learning dynamics: the statistics at every training snapshot of the members trained here
# (imported models have none).


rule dynamics:
    input:
        models=member_files("results/models/{condition}/seed{seed}"),
        snapshots=member_files("results/models/{condition}/seed{seed}.snapshots"),
        masks="results/extract/{condition}/masks.npz",
        tokens=tokens_file("results/tokens/{condition}/train.npy"),
    output:
        "results/stats/{condition}/dynamics.tsv",
    log:
        "results/logs/dynamics/{condition}.log",
    benchmark:
        "results/benchmarks/dynamics/{condition}.tsv"
    wildcard_constraints:
        condition=alternatives(PLAN.trained),
    conda:
        "../envs/dynamics.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=per_condition(dynamics_resources, "mem_mb"),
        runtime=per_condition(dynamics_resources, "runtime"),
        cpus_per_gpu=per_condition(dynamics_resources, "cpus_per_gpu"),
    params:
        seeds=of_condition(PLAN.seeds),
        dynamics=settings("dynamics"),
        extract=settings("extract", "batch_size", "fisher_batch_size", "precision"),
        stats=settings("stats", "summary_k", "summary_top_p"),
    script:
        "../scripts/learning_dynamics.py"


rule dynamics_table:
    input:
        tables=PLAN.dynamics_tables,
    output:
        "results/stats/dynamics.tsv",
    log:
        "results/logs/dynamics/dynamics.log",
    conda:
        "../envs/stats.yaml"
    params:
        conditions=PLAN.trained,
    script:
        "../scripts/gather_dynamics.py"
