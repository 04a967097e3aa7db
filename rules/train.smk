rule train:
    input:
        tokens=tokens_file("results/tokens/{condition}/train.npy"),
        token_stats=tokens_file("results/tokens/{condition}/train.json"),
        tokenizer=tokens_file("results/tokenizers/{condition}.json"),
    output:
        model=directory("results/models/{condition}/seed{seed}"),
        curve="results/models/{condition}/seed{seed}.curve.tsv",
        snapshots=directory("results/models/{condition}/seed{seed}.snapshots"),
    log:
        "results/logs/train/{condition}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{condition}/seed{seed}.tsv"
    wildcard_constraints:
        condition=alternatives(PLAN.trained),
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=per_condition(train_resources, "mem_mb"),
        runtime=per_condition(train_resources, "runtime"),
        cpus_per_gpu=per_condition(train_resources, "cpus_per_gpu"),
        # SIGTERM before the time limit: the member saves its training state, the retry resumes
        slurm_extra=with_profile_slurm_extra(stop_signal),
    params:
        model=of_condition(PLAN.model),
        train=of_condition(PLAN.train),
        # the resumable training state, and the snapshots beside it, outlive a killed job
        state="results/state/{condition}/seed{seed}.pt",
        snapshots="results/state/{condition}/seed{seed}.snapshots",
    script:
        "../scripts/train_model.py"
