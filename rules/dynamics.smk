# The learning dynamics: the statistics at every training snapshot of the members trained here
# (imported checkpoints have none).


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
        condition=_names(TRAINED),
    conda:
        "../envs/dynamics.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=per_condition(dynamics_resources, "mem_mb"),
        runtime=per_condition(dynamics_resources, "runtime"),
        cpus_per_task=per_condition(dynamics_resources, "cpus_per_task"),
    params:
        seeds=seeds_of,
        n_sequences=config["dynamics"]["n_sequences"],
        batch_size=config["extract"]["batch_size"],
        precision=config["extract"]["precision"],
        summary_k=config["stats"]["summary_k"],
        summary_top_p=config["stats"]["summary_top_p"],
    script:
        "../scripts/learning_dynamics.py"


rule dynamics_table:
    input:
        tables=expand("results/stats/{condition}/dynamics.tsv", condition=TRAINED),
    output:
        "results/stats/dynamics.tsv",
    log:
        "results/logs/dynamics/dynamics.log",
    conda:
        "../envs/stats.yaml"
    params:
        conditions=TRAINED,
    script:
        "../scripts/gather_dynamics.py"
