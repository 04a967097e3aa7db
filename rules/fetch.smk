rule fetch:
    input:
        local_source,
    output:
        directory("results/fetch/{source}"),
    log:
        "results/logs/fetch/{source}.log",
    conda:
        "../envs/fetch.yaml"
    params:
        source=fetch_params,
    script:
        "../scripts/fetch_source.py"
