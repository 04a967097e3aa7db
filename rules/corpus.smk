rule corpus:
    input:
        "results/fetch/{source}",
    output:
        train="results/corpus/{source}/train.txt",
        eval="results/corpus/{source}/eval.txt",
        stats="results/corpus/{source}/stats.json",
    log:
        "results/logs/corpus/{source}.log",
    conda:
        "../envs/corpus.yaml"
    resources:
        mem_mb=input_mem_mb(20),
    params:
        source=of_source(PLAN.corpus_params),
        corpus=settings("corpus"),
    script:
        "../scripts/build_corpus.py"
