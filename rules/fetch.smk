rule fetch:
    input:
        of_source(PLAN.local_files),
    output:
        directory("results/fetch/{source}"),
    log:
        "results/logs/fetch/{source}.log",
    conda:
        "../envs/fetch.yaml"
    params:
        source=of_source(PLAN.fetch_params),
        fetch=settings("fetch"),
    script:
        "../scripts/fetch_source.py"
