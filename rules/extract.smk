rule eval_masks:
    input:
        tokens=tokens_file("results/tokens/{condition}/eval.npy"),
        repeats=tokens_file("results/tokens/{condition}/eval.repeats.npy"),
        tokenizer=tokens_file("results/tokenizers/{condition}.json"),
    output:
        "results/extract/{condition}/masks.npz",
    log:
        "results/logs/eval_masks/{condition}.log",
    conda:
        "../envs/extract.yaml"
    params:
        masks=settings(
            "extract",
            "n_sequences",
            "mask_fraction",
            "fisher_mask_fraction",
            "mask_seed",
        ),
    script:
        "../scripts/eval_masks.py"


rule extract:
    input:
        model="results/models/{condition}/seed{seed}",
        masks="results/extract/{condition}/masks.npz",
    output:
        predictions="results/extract/{condition}/seed{seed}/predictions.npz",
        embeddings="results/extract/{condition}/seed{seed}/embeddings.npy",
        fisher="results/extract/{condition}/seed{seed}/fisher.tsv",
        fisher_per_example="results/extract/{condition}/seed{seed}/fisher_per_example.tsv",
        fisher_rows="results/extract/{condition}/seed{seed}/fisher_rows.npz",
        fisher_true="results/extract/{condition}/seed{seed}/fisher_true.tsv",
        fisher_true_rows="results/extract/{condition}/seed{seed}/fisher_true_rows.npz",
        layers="results/extract/{condition}/seed{seed}/layers.npy",
        gradient_geometry="results/extract/{condition}/seed{seed}/gradient_geometry.npz",
    log:
        "results/logs/extract/{condition}/seed{seed}.log",
    benchmark:
        "results/benchmarks/extract/{condition}/seed{seed}.tsv"
    conda:
        "../envs/extract.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=per_condition(extract_resources, "mem_mb"),
        runtime=per_condition(extract_resources, "runtime"),
        cpus_per_gpu=per_condition(extract_resources, "cpus_per_gpu"),
    params:
        extract=settings("extract"),
    script:
        "../scripts/extract_member.py"


# Beyond the paper: reverse-complement symmetry of the k-mer members (gfm_limits/reverse_complement.py)
rule rc_consistency:
    input:
        model="results/models/{condition}/seed{seed}",
        masks="results/extract/{condition}/masks.npz",
        tokenizer=tokens_file("results/tokenizers/{condition}.json"),
    output:
        "results/extract/{condition}/seed{seed}/rc_consistency.npz",
    log:
        "results/logs/rc_consistency/{condition}/seed{seed}.log",
    benchmark:
        "results/benchmarks/rc_consistency/{condition}/seed{seed}.tsv"
    wildcard_constraints:
        condition=alternatives(PLAN.rc_conditions),
    # torch and scipy, as the dynamics rule
    conda:
        "../envs/dynamics.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=per_condition(extract_resources, "mem_mb"),
        runtime=per_condition(extract_resources, "runtime"),
        cpus_per_gpu=per_condition(extract_resources, "cpus_per_gpu"),
    params:
        extract=settings("extract", "batch_size", "precision", "mask_seed"),
        k=kmer_k,
    script:
        "../scripts/rc_consistency.py"
