rule fetch:
    input:
        local_source,
    output:
        "results/fetch/{source}.data",
    params:
        source=fetch_params,
    log:
        "results/logs/fetch/{source}.log",
    conda:
        "../envs/fetch.yaml"
    script:
        "../scripts/fetch_source.py"
